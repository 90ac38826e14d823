-- A read model's rebuild from position 0 empties its tables with TRUNCATE (projections.rebuild_all):
-- deleting row by row left every rebuilt key to meet its deleted twin in the unique index.
GRANT TRUNCATE ON rm_cadres, rm_rotation_postings, rm_rotation_due, rm_assessment_watch, rm_assessment_grades,
  rm_appointments, rm_notices, rm_notice_objections, rm_assessment_reports, rm_audits, rm_audit_findings,
  rm_leadership_posts, rm_departure_audits, rm_reports, rm_report_notices, rm_inquiries TO cadre_writer;
