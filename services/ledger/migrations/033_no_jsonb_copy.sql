-- The ledger stores each envelope once: as the canonical bytes it hashes. The jsonb copy beside them
-- (001) was derivable state that had to be written with every row (parsed by PostgreSQL on the way
-- in, about as many bytes again in the heap and the WAL) and proven equal to the bytes by every
-- verification. Queries that want the envelope as jsonb read it from the bytes, as v_events does.
-- Existing rows keep the dropped column's bytes on disk until the table is next rewritten; nothing
-- reads them.
DROP VIEW v_events;
ALTER TABLE ledger_events DROP COLUMN envelope;
COMMENT ON TABLE ledger_events IS 'Every valid event, in commit order (position). canonical holds the RFC 8785 bytes that are hashed: leaf_hash = SHA-256(0x00 || canonical); the envelope as jsonb is convert_from(canonical, ''UTF8'')::jsonb. prev_hash is the leaf hash of the same cadre''s previous event (per-cadre hash chain). The other columns repeat envelope fields for indexes and queries; verification checks them against the hashed bytes.';

CREATE VIEW v_events AS
  SELECT position, stream_seq, event_id, cadre_id, county, type, occurred_on, recorded_at, ruleset, cadre_version,
         encode(prev_hash, 'hex') AS prev_hash, encode(leaf_hash, 'hex') AS leaf_hash,
         convert_from(canonical, 'UTF8')::jsonb AS envelope, committed_at
  FROM ledger_events;
COMMENT ON VIEW v_events IS 'Every ledger event with its hashes in hex and its envelope as jsonb, read from the hashed bytes (账本事件).';
REVOKE ALL ON v_events FROM PUBLIC;
GRANT SELECT ON v_events TO cadre_auditor;
