-- Bulk reads in the access trail (批量读取留痕): the event feed and the lists that name cadres file one entry per
-- request, with no cadre of its own: the route, the county and filters asked, and how much was answered (rows,
-- distinct cadres, and for the feed the ledger positions, so that the events read can be listed again).
ALTER TABLE access_trail
  ALTER COLUMN cadre_id DROP NOT NULL,
  ADD COLUMN route          text,
  ADD COLUMN county         text,
  ADD COLUMN filters        jsonb,
  ADD COLUMN returned       integer,
  ADD COLUMN cadres         integer,
  ADD COLUMN first_position bigint,
  ADD COLUMN last_position  bigint;
-- A county-scoped operator lists the bulk reads of its county; dossier reads are found by their cadre's county.
CREATE INDEX access_trail_bulk_county ON access_trail (county, stream_seq) WHERE cadre_id IS NULL;
COMMENT ON COLUMN access_trail.cadre_id IS 'The cadre read; null for a bulk read (event feed, list), which names its route.';
COMMENT ON COLUMN access_trail.returned IS 'Rows a bulk read answered; null when it answered nothing (refused, failed).';
