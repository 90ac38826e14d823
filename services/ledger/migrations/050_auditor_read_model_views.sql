-- The read models as read-only SQL views for auditors (审计人员只读视图: 待办清单), beside v_events and the others of
-- migration 005: the lists DESIGN.md 1 names (rotations due and overdue, open objections, unresolved findings) and
-- every other read model, as the ledger keeps them (corrections applied). cadre_auditor reads the views, never the
-- tables. A view lists its table's columns as they were when it was made: a migration that adds a column to one of
-- these tables makes its view again (CREATE OR REPLACE VIEW).
CREATE VIEW v_postings AS SELECT * FROM rm_rotation_postings;
COMMENT ON VIEW v_postings IS 'Posts each cadre holds now, with the tenure each rotation rule counts (任职与任职年限).';
CREATE VIEW v_rotation_due AS SELECT * FROM rm_rotation_due;
COMMENT ON VIEW v_rotation_due IS
  'Rotations due and not yet carried out (应交流): overdue from overdue_on, unless deferred up to deferred_until.';
CREATE VIEW v_rotations AS SELECT * FROM rm_rotations;
COMMENT ON VIEW v_rotations IS 'Rotations carried out, with the rule that made each due (交流完成).';
CREATE VIEW v_notices AS SELECT * FROM rm_notices;
COMMENT ON VIEW v_notices IS 'Pre-appointment notices: period, status, outcome (任前公示).';
CREATE VIEW v_notice_objections AS SELECT * FROM rm_notice_objections;
COMMENT ON VIEW v_notice_objections IS 'Objections to a notice and reports received while it was open (公示期间反映).';
CREATE VIEW v_appointments AS SELECT * FROM rm_appointments;
COMMENT ON VIEW v_appointments IS 'Appointment compliance: each selection step by step, with its issues (选拔任用程序合规).';
CREATE VIEW v_assessment_watch AS SELECT * FROM rm_assessment_watch;
COMMENT ON VIEW v_assessment_watch IS 'Assessment watchlist: breaches, basically competent, dismissal cases, retests (考核预警).';
CREATE VIEW v_assessment_grades AS SELECT * FROM rm_assessment_grades;
COMMENT ON VIEW v_assessment_grades IS 'Annual grades (年度考核等次).';
CREATE VIEW v_audits AS SELECT * FROM rm_audits;
COMMENT ON VIEW v_audits IS 'Economic responsibility audits, step by step (经济责任审计).';
CREATE VIEW v_audit_findings AS SELECT * FROM rm_audit_findings;
COMMENT ON VIEW v_audit_findings IS 'Audit findings and their rectification (审计发现问题; unresolved: rectified_on IS NULL).';
CREATE VIEW v_leadership_posts AS SELECT * FROM rm_leadership_posts;
COMMENT ON VIEW v_leadership_posts IS 'Leadership posts held or left, for the departure-audit check (领导职务).';
CREATE VIEW v_departure_audits AS SELECT * FROM rm_departure_audits;
COMMENT ON VIEW v_departure_audits IS 'Departure audits per post left (离任审计).';
CREATE VIEW v_reports AS SELECT * FROM rm_reports;
COMMENT ON VIEW v_reports IS 'Reports through the funnel: received, verified, what followed (举报).';
CREATE VIEW v_report_notices AS SELECT * FROM rm_report_notices;
COMMENT ON VIEW v_report_notices IS 'Reports made as objections to a pre-appointment notice (公示期间举报).';
CREATE VIEW v_assessment_reports AS SELECT * FROM rm_assessment_reports;
COMMENT ON VIEW v_assessment_reports IS 'Reports about cadres and their verification, as objections need them (举报核查).';
CREATE VIEW v_inquiries AS SELECT * FROM rm_inquiries;
COMMENT ON VIEW v_inquiries IS
  'Written inquiries and their answer due day (函询): overdue when unanswered after due.';

REVOKE ALL ON v_postings, v_rotation_due, v_rotations, v_notices, v_notice_objections, v_appointments,
  v_assessment_watch, v_assessment_grades, v_audits, v_audit_findings, v_leadership_posts, v_departure_audits,
  v_reports, v_report_notices, v_assessment_reports, v_inquiries FROM PUBLIC;
GRANT SELECT ON v_postings, v_rotation_due, v_rotations, v_notices, v_notice_objections, v_appointments,
  v_assessment_watch, v_assessment_grades, v_audits, v_audit_findings, v_leadership_posts, v_departure_audits,
  v_reports, v_report_notices, v_assessment_reports, v_inquiries TO cadre_auditor;
