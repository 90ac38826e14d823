-- A witness with a timestamped key (C2SP cosignature/v1) cosigns the latest checkpoint on every round, also
-- while the log does not grow. Each later cosignature of the same checkpoint says "as of this time, this is
-- still the largest checkpoint of the log I have seen": that is what tells a reader the checkpoint is fresh
-- (新鲜度), and what a split view would have to get past. The first cosignature stays as it was (one per
-- checkpoint and witness); the later ones are kept beside it as renewals, append-only like the rest.
-- `stated_at` is the time the cosignature states, for ordering only: answers read the time from the verified
-- note, and verification compares the two.
ALTER TABLE checkpoint_cosignatures
  ADD COLUMN renewal   boolean NOT NULL DEFAULT false,
  ADD COLUMN stated_at bigint CHECK (stated_at >= 0);
ALTER TABLE checkpoint_cosignatures DROP CONSTRAINT checkpoint_cosignatures_checkpoint_id_witness_key;
CREATE UNIQUE INDEX checkpoint_cosignatures_first ON checkpoint_cosignatures (checkpoint_id, witness) WHERE NOT renewal;
CREATE UNIQUE INDEX checkpoint_cosignatures_renewals ON checkpoint_cosignatures (checkpoint_id, witness, stated_at)
  WHERE renewal;
COMMENT ON COLUMN checkpoint_cosignatures.renewal IS 'A later cosignature/v1 of a checkpoint the witness had cosigned (联署续签): freshness.';
COMMENT ON COLUMN checkpoint_cosignatures.stated_at IS 'The cosignature/v1 timestamp (POSIX seconds) the note states, for ordering; NULL for type 0x01 and rows before migration 038.';
