-- The post an appointment under a notice took (任职), beside the post its selection proposed (拟任职务), so that the
-- appointment compliance read model can tell the two apart (posting.notice_post_matches). Filled when the ledger
-- rebuilds that read model (its version 3) at start.
ALTER TABLE rm_appointments
  ADD COLUMN appointed_post     text,
  ADD COLUMN appointed_unit     text,
  ADD COLUMN appointed_township text;
