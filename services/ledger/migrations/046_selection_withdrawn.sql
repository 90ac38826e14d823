-- A selection may end before its notice (selection.withdrawn, 终止选拔); the appointment compliance read model
-- (version 2, rebuilt from position 0 at the ledger's next start) keeps the day and the reason.
ALTER TABLE rm_appointments ADD COLUMN withdrawn_on date, ADD COLUMN withdraw_reason text;
COMMENT ON COLUMN rm_appointments.withdrawn_on IS 'When the selection was ended before its notice (终止选拔).';
