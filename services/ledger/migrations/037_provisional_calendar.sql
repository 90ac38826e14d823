-- Counts of working days made on a provisional calendar year (日历暂定), as the events record them
-- (`provisional_calendar_years` of supervision.inquiry_sent and notice.posted): such a year listed only its
-- statutory holidays, so the State Council's notice may still move the due day or the count. Events recorded
-- before the field existed leave it NULL, as do counts made on official years only; no rebuild is needed.
ALTER TABLE rm_inquiries ADD COLUMN provisional_calendar_years integer[];
COMMENT ON COLUMN rm_inquiries.provisional_calendar_years IS 'Provisional calendar years the due day was counted on (日历暂定); NULL: official.';
ALTER TABLE rm_notices ADD COLUMN provisional_calendar_years integer[];
COMMENT ON COLUMN rm_notices.provisional_calendar_years IS 'Provisional calendar years the working days were counted on (日历暂定); NULL: official.';
