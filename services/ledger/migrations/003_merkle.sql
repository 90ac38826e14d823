-- The RFC 9162 Merkle log over ledger positions, and signed checkpoints.
-- merkle_nodes holds every complete subtree: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level),
-- leaf index = position - 1. Appending n leaves writes about 2n nodes; a proof reads O(log n) of them.

CREATE TABLE merkle_nodes (
  level smallint NOT NULL CHECK (level >= 0 AND level < 64),
  idx   bigint   NOT NULL CHECK (idx >= 0),
  hash  bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
COMMENT ON TABLE merkle_nodes IS 'Complete subtrees of the Merkle log, written with the events they cover, in the same transaction.';

CREATE TABLE checkpoints (
  id         bigserial   PRIMARY KEY,
  origin     text        NOT NULL,
  size       bigint      NOT NULL CHECK (size >= 0),
  root       bytea       NOT NULL CHECK (length(root) = 32),
  note       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE checkpoints IS 'C2SP signed notes (tlog-checkpoint) of the log, signed with a key that is not in the database.';
CREATE INDEX checkpoints_size ON checkpoints (size);

CREATE TABLE checkpoint_cosignatures (
  id            bigserial   PRIMARY KEY,
  checkpoint_id bigint      NOT NULL REFERENCES checkpoints (id),
  witness       text        NOT NULL,
  note          text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (checkpoint_id, witness)
);
COMMENT ON TABLE checkpoint_cosignatures IS 'The checkpoint note with a witness''s cosignature added, after the witness checked consistency.';

CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE OR DELETE ON merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER cosignatures_no_update BEFORE UPDATE OR DELETE ON checkpoint_cosignatures
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER cosignatures_no_truncate BEFORE TRUNCATE ON checkpoint_cosignatures
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

REVOKE ALL ON merkle_nodes, checkpoints, checkpoint_cosignatures FROM PUBLIC;
GRANT SELECT, INSERT ON merkle_nodes, checkpoints, checkpoint_cosignatures TO cadre_writer;
GRANT USAGE ON SEQUENCE checkpoints_id_seq, checkpoint_cosignatures_id_seq TO cadre_writer;
GRANT SELECT ON merkle_nodes, checkpoints, checkpoint_cosignatures TO cadre_reader;
