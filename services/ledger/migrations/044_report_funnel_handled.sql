-- The report funnel counts disciplinary sanctions (纪律处分: party and administrative) apart from organisational
-- handling (组织处理), as seed S1 does ("2名干部受到了纪律处分"); the read model (version 2) is rebuilt from
-- position 0 at the ledger's next start, filling this column.
ALTER TABLE rm_reports ADD COLUMN handled_on date;
COMMENT ON COLUMN rm_reports.sanctioned_on IS 'First disciplinary sanction (纪律处分: party or administrative) naming the report.';
COMMENT ON COLUMN rm_reports.handled_on IS 'First organisational handling (组织处理) naming the report.';
COMMENT ON COLUMN rm_reports.talk_on IS 'First reminder or admonishment talk (提醒 / 诫勉谈话) naming the report.';
