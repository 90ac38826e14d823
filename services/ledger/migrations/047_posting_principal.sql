-- A posting may say whether it is a principal's (正职, post.assigned `principal`); the postings read model
-- (version 2, rebuilt from position 0 at the ledger's next start) keeps it. NULL: not stated.
ALTER TABLE rm_rotation_postings ADD COLUMN principal boolean;
COMMENT ON COLUMN rm_rotation_postings.principal IS 'A principal''s post (正职): true; a deputy''s (副职): false; NULL: not stated.';
