-- The directory (rm_cadres) is updated for every cadre in every span the projector applies, and its
-- indexed columns (cadre_id, county) stay as they are: with room left on each page the update stays on
-- the page (a HOT update) and writes no index entry. Pages written from now on keep 30% free.
ALTER TABLE rm_cadres SET (fillfactor = 70);
