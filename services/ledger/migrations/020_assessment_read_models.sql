-- Read models of the assessment service (services/ledger/read_models/notices.py, compliance.py,
-- assessment_watchlist.py), rebuilt from events only.

CREATE TABLE rm_notices (
  cadre_id           text    NOT NULL,
  notice_id          text    NOT NULL,
  county             char(6) NOT NULL,
  selection_id       text    NOT NULL,
  proposed_post      text    NOT NULL,
  posted_on          date    NOT NULL,
  start_on           date    NOT NULL,
  end_on             date    NOT NULL,
  working_days       integer NOT NULL,
  channels           jsonb   NOT NULL,
  status             text    NOT NULL,
  outcome            text,
  closed_on          date,
  deferred_on        date,
  deferred_until     date,
  cancelled_on       date,
  cancel_reason      text,
  last_position      bigint  NOT NULL,
  PRIMARY KEY (cadre_id, notice_id)
);
COMMENT ON TABLE rm_notices IS 'Pre-appointment notices (任前公示): period, status (open, deferred, closed, cancelled).';
CREATE INDEX rm_notices_unresolved ON rm_notices (county, end_on) WHERE status IN ('open', 'deferred');

CREATE TABLE rm_notice_objections (
  cadre_id    text    NOT NULL,
  notice_id   text    NOT NULL,
  report_id   text    NOT NULL,
  county      char(6) NOT NULL,
  channel     text,
  named       boolean,
  received_on date    NOT NULL,
  recorded_as text    NOT NULL,
  PRIMARY KEY (cadre_id, notice_id, report_id)
);
COMMENT ON TABLE rm_notice_objections IS
  'Objections to a notice (公示期间反映): recorded ones (objection) and reports received while it was open (report).';

CREATE TABLE rm_assessment_reports (
  cadre_id    text NOT NULL,
  report_id   text NOT NULL,
  received_on date,
  channel     text,
  named       boolean,
  verified_on date,
  outcome     text,
  PRIMARY KEY (cadre_id, report_id)
);
COMMENT ON TABLE rm_assessment_reports IS 'Reports (举报) about cadres and their verification, as objections need them.';

CREATE TABLE rm_appointments (
  cadre_id            text    NOT NULL,
  selection_id        text    NOT NULL,
  county              char(6) NOT NULL,
  proposed_post       text    NOT NULL,
  promotion           boolean NOT NULL,
  inspected_on        date    NOT NULL,
  checks              jsonb   NOT NULL,
  voted_on            date,
  members_entitled    integer,
  members_present     integer,
  votes_for           integer,
  votes_against       integer,
  votes_deferred      integer,
  vote_outcome        text,
  notice_id           text,
  notice_posted_on    date,
  notice_start        date,
  notice_end          date,
  notice_working_days integer,
  objections          integer NOT NULL DEFAULT 0,
  deferred_on         date,
  deferred_until      date,
  closed_deferred_on  date,
  closed_on           date,
  outcome             text,
  cancelled_on        date,
  appointed_on        date,
  appointed_kind      text,
  appointed_post_id   text,
  issues              jsonb   NOT NULL DEFAULT '[]',
  compliant           boolean GENERATED ALWAYS AS (issues = '[]'::jsonb) STORED,
  last_position       bigint  NOT NULL,
  PRIMARY KEY (cadre_id, selection_id)
);
COMMENT ON TABLE rm_appointments IS
  'Appointment compliance (选拔任用程序): inspection -> vote -> notice -> close -> post, each step with its date.';
CREATE INDEX rm_appointments_county ON rm_appointments (county, inspected_on);
CREATE INDEX rm_appointments_noncompliant ON rm_appointments (county, inspected_on) WHERE NOT compliant;
CREATE INDEX rm_appointments_notice ON rm_appointments (cadre_id, notice_id);

CREATE TABLE rm_assessment_watch (
  cadre_id      text    NOT NULL,
  kind          text    NOT NULL,
  item_key      text    NOT NULL,
  county        char(6) NOT NULL,
  year          integer,
  since         date    NOT NULL,
  due           date,
  detail        jsonb   NOT NULL,
  resolved_on   date,
  resolution    text,
  last_position bigint  NOT NULL,
  PRIMARY KEY (cadre_id, kind, item_key)
);
COMMENT ON TABLE rm_assessment_watch IS
  'Assessment watchlist (考核预警): threshold breaches, basically competent, dismissal cases, retests, second failures.';
CREATE INDEX rm_assessment_watch_open ON rm_assessment_watch (county, kind, since) WHERE resolved_on IS NULL;

CREATE TABLE rm_assessment_grades (
  cadre_id text    NOT NULL,
  year     integer NOT NULL,
  grade    text    NOT NULL,
  PRIMARY KEY (cadre_id, year)
);
COMMENT ON TABLE rm_assessment_grades IS 'Annual grades (年度考核等次), to find consecutive low grades.';

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_notices, rm_notice_objections, rm_assessment_reports, rm_appointments,
  rm_assessment_watch, rm_assessment_grades TO cadre_writer;
GRANT SELECT ON rm_notices, rm_notice_objections, rm_assessment_reports, rm_appointments, rm_assessment_watch,
  rm_assessment_grades TO cadre_reader;
