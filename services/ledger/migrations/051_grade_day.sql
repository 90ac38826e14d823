-- The day each annual grade was recorded as occurring (评定日期), so that a year's assessment summary can be read as
-- it stood on a day (GET /v1/assessment/summary?as_of=). Filled when the ledger rebuilds the assessment watchlist
-- read model (its version 4) at start. The auditors' view of the table is made again to show the column.
ALTER TABLE rm_assessment_grades ADD COLUMN graded_on date;
CREATE OR REPLACE VIEW v_assessment_grades AS SELECT * FROM rm_assessment_grades;
