-- Since the report funnel's version 3 (migration 052) rm_report_notices also holds the reports received while a
-- notice was open, not only those filed against it as objections: its comments say so.
COMMENT ON TABLE rm_report_notices IS
  'Reports that are objections to a pre-appointment notice (公示期间举报): filed against it, or received while it was open.';
COMMENT ON VIEW v_report_notices IS
  'Reports that are objections to a notice (公示期间举报): filed against it, or received while it was open.';
