-- The ledger: append-only event rows, quarantine, the writer's consumer checkpoint.
-- Append-only is enforced by PostgreSQL itself: triggers reject UPDATE, DELETE and TRUNCATE, and
-- the writer role holds only INSERT and SELECT on these tables.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadre_writer') THEN
    CREATE ROLE cadre_writer LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadre_reader') THEN
    CREATE ROLE cadre_reader LOGIN;
  END IF;
END $$;

CREATE TABLE ledger_events (
  position      bigint      PRIMARY KEY CHECK (position >= 1),
  stream_seq    bigint      NOT NULL UNIQUE,
  event_id      uuid        NOT NULL UNIQUE,
  cadre_id      text        NOT NULL,
  county        char(6)     NOT NULL,
  type          text        NOT NULL,
  occurred_on   date        NOT NULL,
  recorded_at   timestamptz NOT NULL,
  ruleset       text        NOT NULL,
  cadre_version integer     NOT NULL CHECK (cadre_version >= 1),
  prev_hash     bytea       CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
  leaf_hash     bytea       NOT NULL CHECK (length(leaf_hash) = 32),
  canonical     bytea       NOT NULL,
  envelope      jsonb       NOT NULL,
  committed_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cadre_id, cadre_version),
  CHECK ((cadre_version = 1) = (prev_hash IS NULL))
);
COMMENT ON TABLE ledger_events IS 'Every valid event, in commit order (position). canonical holds the RFC 8785 bytes that are hashed: leaf_hash = SHA-256(0x00 || canonical). prev_hash is the leaf hash of the same cadre''s previous event (per-cadre hash chain). envelope is a jsonb copy for queries only.';
CREATE INDEX ledger_events_type ON ledger_events (type, position);
CREATE INDEX ledger_events_county ON ledger_events (county, position);

CREATE TABLE quarantine (
  id           bigserial   PRIMARY KEY,
  stream_seq   bigint      NOT NULL UNIQUE,
  nats_subject text        NOT NULL,
  cadre_id     text,
  reason       text        NOT NULL,
  detail       text        NOT NULL,
  headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  raw          bytea       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE quarantine IS 'Messages on the stream that are not valid events (or late duplicates), kept with raw bytes and the reason. Never blocks the stream, never lost.';
CREATE INDEX quarantine_cadre ON quarantine (cadre_id, stream_seq);

CREATE TABLE consumer_checkpoint (
  consumer    text        PRIMARY KEY,
  stream_seq  bigint      NOT NULL,
  position    bigint      NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE consumer_checkpoint IS 'Last stream sequence and ledger position committed by the writer, updated in the same transaction as the rows.';

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only: % is not allowed (台账只可追加)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_events_no_update BEFORE UPDATE OR DELETE ON ledger_events
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER quarantine_no_update BEFORE UPDATE OR DELETE ON quarantine
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER quarantine_no_truncate BEFORE TRUNCATE ON quarantine
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

REVOKE ALL ON ledger_events, quarantine, consumer_checkpoint FROM PUBLIC;
GRANT SELECT, INSERT ON ledger_events, quarantine TO cadre_writer;
GRANT USAGE ON SEQUENCE quarantine_id_seq TO cadre_writer;
GRANT SELECT, INSERT, UPDATE ON consumer_checkpoint TO cadre_writer;
GRANT SELECT ON ledger_events, quarantine, consumer_checkpoint TO cadre_reader;

-- Read models (projections) are rebuildable from the ledger; the writer owns their rows.
CREATE TABLE projection_checkpoints (
  name       text        PRIMARY KEY,
  position   bigint      NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON projection_checkpoints TO cadre_writer;
GRANT SELECT ON projection_checkpoints TO cadre_reader;
