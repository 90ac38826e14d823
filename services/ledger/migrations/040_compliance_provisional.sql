-- The provisional calendar years a notice's working days were counted on (日历暂定), for the compliance read
-- model (services/ledger/read_models/compliance.py): its check counts them again on the calendar it runs with,
-- so rebuilding it once a year's holiday notice is installed flags a notice the notice made too short.
ALTER TABLE rm_appointments ADD COLUMN notice_provisional_years integer[];
COMMENT ON COLUMN rm_appointments.notice_provisional_years IS 'Provisional calendar years the notice''s working days were counted on; NULL: official.';
