-- Read-only SQL access for auditors (审计人员只读视图): views only, never the tables behind them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadre_auditor') THEN
    CREATE ROLE cadre_auditor LOGIN;
  END IF;
END $$;

CREATE VIEW v_events AS
  SELECT position, stream_seq, event_id, cadre_id, county, type, occurred_on, recorded_at, ruleset, cadre_version,
         encode(prev_hash, 'hex') AS prev_hash, encode(leaf_hash, 'hex') AS leaf_hash, envelope, committed_at
  FROM ledger_events;
COMMENT ON VIEW v_events IS 'Every ledger event with its hashes in hex (账本事件).';

CREATE VIEW v_quarantine AS
  SELECT id, stream_seq, nats_subject, cadre_id, reason, detail, received_at FROM quarantine;
COMMENT ON VIEW v_quarantine IS 'Messages that were not valid events, without their raw bytes (隔离消息).';

CREATE VIEW v_checkpoints AS
  SELECT id, origin, size, encode(root, 'hex') AS root, note, created_at FROM checkpoints;
COMMENT ON VIEW v_checkpoints IS 'Signed checkpoints of the Merkle log (检查点).';

CREATE VIEW v_cadres AS SELECT * FROM rm_cadres;
COMMENT ON VIEW v_cadres IS 'The cadre directory read model (干部名录).';

REVOKE ALL ON v_events, v_quarantine, v_checkpoints, v_cadres FROM PUBLIC;
GRANT SELECT ON v_events, v_quarantine, v_checkpoints, v_cadres TO cadre_auditor;
