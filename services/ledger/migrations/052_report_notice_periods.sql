-- The report funnel (举报受理与核查) links a deferral (缓任) or a cancelled qualification (取消任职资格) to every
-- report about the cadre received while the notice was open, as the notices read model counts such a report among
-- the notice's objections (docs/assessment.md), and no longer only to the reports filed with
-- notice.objection_received. Each notice's start, whether it is still open, and its outcomes' days are kept for that.
-- Filled when the ledger rebuilds the report funnel read model (its version 3) at start.
CREATE TABLE rm_report_notice_periods (
  cadre_id     text    NOT NULL,
  notice_id    text    NOT NULL,
  start_on     date    NOT NULL,
  open         boolean NOT NULL DEFAULT true,
  deferred_on  date,
  cancelled_on date,
  PRIMARY KEY (cadre_id, notice_id)
);
COMMENT ON TABLE rm_report_notice_periods IS
  'Pre-appointment notices as the report funnel follows them (公示期间): open while not finally closed or cancelled.';
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON rm_report_notice_periods TO cadre_writer;
GRANT SELECT ON rm_report_notice_periods TO cadre_reader;

CREATE VIEW v_report_notice_periods AS SELECT * FROM rm_report_notice_periods;
COMMENT ON VIEW v_report_notice_periods IS
  'Notices as the report funnel follows them: start, still open, deferred and cancelled days (公示期间).';
REVOKE ALL ON v_report_notice_periods FROM PUBLIC;
GRANT SELECT ON v_report_notice_periods TO cadre_auditor;
