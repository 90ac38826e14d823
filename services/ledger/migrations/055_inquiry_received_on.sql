-- The day the cadre received a written inquiry (收到函件之日), when the audit service recorded it: the answer window
-- counts from it (收到函件后十五个工作日内), so the overdue list shows it and counts a provisional-calendar due day
-- again from it. Filled when the ledger rebuilds the inquiries read model (its version 2) at start. The auditors'
-- view of the table is made again to show the column.
ALTER TABLE rm_inquiries ADD COLUMN received_on date;
COMMENT ON COLUMN rm_inquiries.received_on IS 'Day the cadre received the letter (收到函件之日), from which the answer window counts; NULL: not recorded, the window counts from sent_on.';
CREATE OR REPLACE VIEW v_inquiries AS SELECT * FROM rm_inquiries;
