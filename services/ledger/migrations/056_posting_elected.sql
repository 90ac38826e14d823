-- A posting may say whether its post is filled by election (选举产生, post.assigned and a rotation's `to`: `elected`);
-- the postings read model (version 4, rebuilt from position 0 at the ledger's next start) keeps it. NULL: not
-- stated. The auditors' view of the table is made again to show the column.
ALTER TABLE rm_rotation_postings ADD COLUMN elected boolean;
COMMENT ON COLUMN rm_rotation_postings.elected IS 'A post filled by election (选举产生): true; by appointment (委任): false; NULL: not stated (未说明).';
CREATE OR REPLACE VIEW v_postings AS SELECT * FROM rm_rotation_postings;
