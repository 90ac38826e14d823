-- An audit result applied without being filed to the dossier may be filed later (补充归档: a second
-- audit.result_applied, the same result, filed); the day it was filed is kept apart from the day it was applied.
-- The audit findings read model (version 2) is rebuilt from position 0 at the ledger's next start, filling it.
ALTER TABLE rm_audits ADD COLUMN filed_on date;
COMMENT ON COLUMN rm_audits.filed_on IS 'When the result was filed to the cadre''s dossier (归档): with its application or later.';
