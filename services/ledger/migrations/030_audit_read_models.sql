-- Read models of audits and supervision (services/ledger/read_models/audit_*.py, reports.py, inquiries.py),
-- rebuilt from events only.

CREATE TABLE rm_audits (
  cadre_id             text     NOT NULL,
  audit_id             text     NOT NULL,
  county               char(6)  NOT NULL,
  audit_type           text     NOT NULL,
  post_id              text,
  started_on           date,
  opinion_requested_on date,
  opinion_due          date,
  opinion_received_on  date,
  completed_on         date,
  report_number        text,
  evaluation           text,
  result               text,
  result_applied_on    date,
  filed_to_dossier     boolean,
  last_position        bigint   NOT NULL,
  PRIMARY KEY (cadre_id, audit_id)
);
COMMENT ON TABLE rm_audits IS 'Every economic responsibility audit (经济责任审计), step by step.';
CREATE INDEX rm_audits_county ON rm_audits (county, completed_on);

CREATE TABLE rm_audit_findings (
  cadre_id         text          NOT NULL,
  audit_id         text          NOT NULL,
  finding_id       text          NOT NULL,
  county           char(6)       NOT NULL,
  category         integer       NOT NULL,
  amount           numeric(16,2) NOT NULL,
  responsibility   text          NOT NULL,
  description      text          NOT NULL,
  found_on         date          NOT NULL,
  rectified_on     date,
  amount_recovered numeric(16,2),
  PRIMARY KEY (cadre_id, audit_id, finding_id)
);
COMMENT ON TABLE rm_audit_findings IS 'Audit findings (审计发现问题) and when each was rectified (整改).';
CREATE INDEX rm_audit_findings_open ON rm_audit_findings (county, found_on) WHERE rectified_on IS NULL;

CREATE TABLE rm_leadership_posts (
  cadre_id      text    NOT NULL,
  post_id       text    NOT NULL,
  county        char(6) NOT NULL,
  post          text    NOT NULL,
  unit          text    NOT NULL,
  assigned_on   date    NOT NULL,
  vacated_on    date,
  vacate_reason text,
  PRIMARY KEY (cadre_id, post_id)
);
COMMENT ON TABLE rm_leadership_posts IS 'Leadership posts (领导职务) held or left, for the departure-audit check (离任审计).';
CREATE INDEX rm_leadership_posts_vacated ON rm_leadership_posts (county, vacated_on) WHERE vacated_on IS NOT NULL;

CREATE TABLE rm_departure_audits (
  cadre_id   text NOT NULL,
  audit_id   text NOT NULL,
  post_id    text NOT NULL,
  started_on date NOT NULL,
  PRIMARY KEY (cadre_id, audit_id)
);
CREATE INDEX rm_departure_audits_post ON rm_departure_audits (cadre_id, post_id);

CREATE TABLE rm_reports (
  cadre_id     text    NOT NULL,
  report_id    text    NOT NULL,
  county       char(6) NOT NULL,
  channel      text    NOT NULL,
  named        boolean NOT NULL,
  received_on  date    NOT NULL,
  verified_on  date,
  outcome      text,
  talk_on      date,
  inquiry_on   date,
  deferred_on  date,
  cancelled_on date,
  sanctioned_on date,
  PRIMARY KEY (cadre_id, report_id)
);
COMMENT ON TABLE rm_reports IS 'Reports (举报) through the funnel: received, verified, and what followed.';
CREATE INDEX rm_reports_county ON rm_reports (county, received_on);

CREATE TABLE rm_report_notices (
  cadre_id  text NOT NULL,
  notice_id text NOT NULL,
  report_id text NOT NULL,
  PRIMARY KEY (cadre_id, notice_id, report_id)
);
COMMENT ON TABLE rm_report_notices IS 'Objections to a pre-appointment notice (公示期间举报) and the report each names.';

CREATE TABLE rm_inquiries (
  cadre_id    text    NOT NULL,
  inquiry_id  text    NOT NULL,
  county      char(6) NOT NULL,
  sent_on     date    NOT NULL,
  due         date    NOT NULL,
  report_id   text,
  answered_on date,
  late        boolean,
  late_reason text,
  PRIMARY KEY (cadre_id, inquiry_id)
);
COMMENT ON TABLE rm_inquiries IS 'Written inquiries (函询) and their answer due day (15 working days).';
CREATE INDEX rm_inquiries_open ON rm_inquiries (county, due) WHERE answered_on IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_audits, rm_audit_findings, rm_leadership_posts, rm_departure_audits,
  rm_reports, rm_report_notices, rm_inquiries TO cadre_writer;
GRANT SELECT ON rm_audits, rm_audit_findings, rm_leadership_posts, rm_departure_audits, rm_reports,
  rm_report_notices, rm_inquiries TO cadre_reader;
