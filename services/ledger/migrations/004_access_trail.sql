-- The access trail: every read of a cadre's history, state or bundle, filed from the ACCESS stream.
CREATE TABLE access_trail (
  id         uuid        PRIMARY KEY,
  stream_seq bigint      NOT NULL UNIQUE,
  at         timestamptz NOT NULL,
  principal  text        NOT NULL,
  roles      text[]      NOT NULL,
  cadre_id   text        NOT NULL,
  what       text        NOT NULL,
  purpose    text        NOT NULL,
  request_id text        NOT NULL
);
CREATE INDEX access_trail_cadre ON access_trail (cadre_id, at);
CREATE INDEX access_trail_principal ON access_trail (principal, at);
COMMENT ON TABLE access_trail IS 'Who read which dossier, when and why (查阅记录). Append-only.';
CREATE TRIGGER access_trail_no_update BEFORE UPDATE OR DELETE ON access_trail
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER access_trail_no_truncate BEFORE TRUNCATE ON access_trail
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
REVOKE ALL ON access_trail FROM PUBLIC;
GRANT SELECT, INSERT ON access_trail TO cadre_writer;
GRANT SELECT ON access_trail TO cadre_reader;
