-- The audit read models' identifiers compare as bytes (COLLATE "C"): cadre, audit and finding ids (ASCII
-- letters, digits and _ . : / -) and six-digit county codes. Under the dev stack's C.UTF-8, which orders by
-- code point as "C" orders UTF-8 bytes, no query answers in another order; but every comparison in the two
-- primary keys and the county indexes went through strcoll. A replay upserts an rm_audits row per
-- audit.completed: applying 100,000 completions in spans of 5,000 took 8.11 against 8.77 us each (medians
-- of eight alternations, seven of them won bytewise). These columns still compare with columns and
-- parameters of the database's collation (ledger_events.cadre_id, $1): a column's own collation outranks
-- the default one. Changing a column's collation rebuilds its indexes, not its table.
ALTER TABLE rm_audits
  ALTER COLUMN cadre_id TYPE text COLLATE "C",
  ALTER COLUMN audit_id TYPE text COLLATE "C",
  ALTER COLUMN county TYPE char(6) COLLATE "C";
ALTER TABLE rm_audit_findings
  ALTER COLUMN cadre_id TYPE text COLLATE "C",
  ALTER COLUMN audit_id TYPE text COLLATE "C",
  ALTER COLUMN finding_id TYPE text COLLATE "C",
  ALTER COLUMN county TYPE char(6) COLLATE "C";
