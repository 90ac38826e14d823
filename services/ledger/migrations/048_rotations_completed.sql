-- Rotations carried out (交流完成), one row per rotation.completed as corrections leave it, for the rotation summary
-- (GET /v1/rotation/summary). The ledger fills it from position 0 by itself: a read model without a checkpoint.
CREATE TABLE rm_rotations (
  cadre_id          text     NOT NULL,
  county            char(6)  NOT NULL,
  from_post_id      text     NOT NULL,
  from_township     text,
  to_post_id        text     NOT NULL,
  to_township       text,
  completed_on      date     NOT NULL,
  trigger_rule      text     NOT NULL,
  years_in_old_post integer  NOT NULL,
  last_position     bigint   NOT NULL,
  PRIMARY KEY (cadre_id, last_position)
);
COMMENT ON TABLE rm_rotations IS 'Rotations carried out (交流完成), with the rule that made each due.';
CREATE INDEX rm_rotations_county ON rm_rotations (county, completed_on);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON rm_rotations TO cadre_writer;
GRANT SELECT ON rm_rotations TO cadre_reader;
