-- Each witness's latest cosignature, for the ledger's /metrics (ledger_witness_*): the monitor polls it every few
-- seconds, and renewals make the table grow by one row per witness round even while the log is idle.
CREATE INDEX checkpoint_cosignatures_witness ON checkpoint_cosignatures (witness, id);
