-- Read models of postings and rotation (services/ledger/read_models/rotation_*.py), rebuilt from events.

CREATE TABLE rm_rotation_postings (
  cadre_id        text     NOT NULL,
  post_id         text     NOT NULL,
  county          char(6)  NOT NULL,
  post            text     NOT NULL,
  unit            text     NOT NULL,
  township        text,
  level           text     NOT NULL,
  leadership      boolean  NOT NULL,
  internal_unit   boolean  NOT NULL,
  sensitive       boolean  NOT NULL,
  kind            text     NOT NULL,
  since           date     NOT NULL,
  township_since  date,
  probation_end   date,
  probation       text     NOT NULL,
  rules           text[]   NOT NULL,
  last_position   bigint   NOT NULL,
  PRIMARY KEY (cadre_id, post_id)
);
COMMENT ON TABLE rm_rotation_postings IS 'Posts each cadre holds now, with the start of the tenure each rotation rule counts.';
CREATE INDEX rm_rotation_postings_county ON rm_rotation_postings (county, township, unit);

CREATE TABLE rm_rotation_due (
  cadre_id            text     NOT NULL,
  post_id             text     NOT NULL,
  rule                text     NOT NULL,
  county              char(6)  NOT NULL,
  post                text     NOT NULL,
  unit                text     NOT NULL,
  township            text,
  since               date     NOT NULL,
  years               integer  NOT NULL,
  due_on              date     NOT NULL,
  overdue_on          date     NOT NULL,
  deferred_until      date,
  approval_reference  text,
  deferrals           integer  NOT NULL,
  last_position       bigint   NOT NULL,
  PRIMARY KEY (cadre_id, post_id, rule)
);
COMMENT ON TABLE rm_rotation_due IS 'Rotations due (rotation.due) and not yet carried out, with deferrals.';
CREATE INDEX rm_rotation_due_county ON rm_rotation_due (county, due_on);

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_rotation_postings, rm_rotation_due TO cadre_writer;
GRANT SELECT ON rm_rotation_postings, rm_rotation_due TO cadre_reader;
