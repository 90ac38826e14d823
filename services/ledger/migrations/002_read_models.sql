-- First read model: the cadre directory (who is in the ledger, where, how much history).
CREATE TABLE rm_cadres (
  cadre_id         text PRIMARY KEY,
  county           char(6) NOT NULL,
  events           integer NOT NULL,
  first_occurred_on date NOT NULL,
  last_occurred_on  date NOT NULL,
  last_type        text NOT NULL,
  last_position    bigint NOT NULL
);
CREATE INDEX rm_cadres_county ON rm_cadres (county, cadre_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON rm_cadres TO cadre_writer;
GRANT SELECT ON rm_cadres TO cadre_reader;
