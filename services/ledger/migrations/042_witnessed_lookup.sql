-- The newest checkpoint every witness cosigned (a bundle's `witnessed` and `prefer_witnessed`, which the auditor
-- page asks for) was found by walking the checkpoints newest-down and counting each one's first cosignatures. A
-- witness that lags (down, or polling slower than the log signs) left every checkpoint signed since its last
-- cosignature to be counted on every request: 336 checkpoints took 15 ms, and the log signs up to one every 5 s.
-- No checkpoint after the oldest of the witnesses' newest first cosignatures can have them all, so the walk now
-- starts there: each witness's newest is one probe of the first index below, and the checkpoints after it are
-- passed over inside the second, without their rows or their cosignatures being read. The first index also
-- gives the ledger's witness gauges how far each witness got without walking back over its renewals.
CREATE INDEX checkpoint_cosignatures_first_by_witness ON checkpoint_cosignatures (witness, checkpoint_id)
  WHERE NOT renewal;
CREATE INDEX checkpoints_size_id ON checkpoints (size, id);
DROP INDEX IF EXISTS checkpoints_size;
