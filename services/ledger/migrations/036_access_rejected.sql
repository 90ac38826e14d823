-- Messages on the access subjects that are not access records: kept with the reason, so that one
-- unreadable message neither stops the filing of every record after it (the filer used to retry it
-- forever) nor disappears. Only the ledger may publish there, so a row here means a publisher with
-- the ledger's credentials, or a ledger of another version, wrote something this one cannot read.
CREATE TABLE access_rejected (
  stream_seq  bigint      PRIMARY KEY,
  subject     text        NOT NULL,
  reason      text        NOT NULL,
  raw         bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE access_rejected IS 'Messages of the ACCESS stream that are not valid access records, with the reason (无法归档的查阅记录). Append-only.';
CREATE TRIGGER access_rejected_no_update BEFORE UPDATE OR DELETE ON access_rejected
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER access_rejected_no_truncate BEFORE TRUNCATE ON access_rejected
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
REVOKE ALL ON access_rejected FROM PUBLIC;
GRANT SELECT, INSERT ON access_rejected TO cadre_writer;
GRANT SELECT ON access_rejected TO cadre_reader;
