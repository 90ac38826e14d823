-- Personal data of the cadre registry (rotation service): the clear values behind the commitments
-- in `cadre.registered`. Outside the hashed ledger, so it can be erased (values and salts set to NULL)
-- without invalidating any hash chain, Merkle proof or checkpoint. Only the rotation service's own
-- role may read or write it; the ledger's reader and writer roles have no access.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadre_rotation') THEN
    CREATE ROLE cadre_rotation LOGIN;
  END IF;
END $$;

CREATE TABLE person_data (
  cadre_id        text        PRIMARY KEY,
  name            text,
  id_number       text,
  name_salt       bytea       CHECK (name_salt IS NULL OR length(name_salt) = 32),
  id_number_salt  bytea       CHECK (id_number_salt IS NULL OR length(id_number_salt) = 32),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  erased_at       timestamptz,
  CHECK (erased_at IS NOT NULL OR (name IS NOT NULL AND id_number IS NOT NULL
                                   AND name_salt IS NOT NULL AND id_number_salt IS NOT NULL)),
  CHECK (erased_at IS NULL OR (name IS NULL AND id_number IS NULL AND name_salt IS NULL AND id_number_salt IS NULL))
);
COMMENT ON TABLE person_data IS 'Clear names and ID numbers with the salts of their commitments (shared/personal.py). Erasure sets them to NULL and erased_at; the ledger keeps only commitments.';

REVOKE ALL ON person_data FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON person_data TO cadre_rotation;
