-- Each leaf hash is stored once, as ledger_events.leaf_hash. merkle_nodes kept a copy of every leaf
-- (level 0) beside the row it hashes: half of the table's rows, written with every event (about 2 us of
-- PostgreSQL time per event in the drain, and some of the writer's). Proofs read a leaf from its
-- row (leaf idx is position idx + 1), and verification, which recomputes every leaf from the row's bytes
-- and compares it with leaf_hash, compares the stored nodes from level 1 up. The copies are removed here
-- (each equals the row's leaf_hash, so nothing a verification can tell is lost: the migration stops,
-- changing nothing, if one does not), with the append-only trigger off for this one statement, and the
-- CHECK keeps new ones out.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM merkle_nodes n LEFT JOIN ledger_events l ON l.position = n.idx + 1
             WHERE n.level = 0 AND l.leaf_hash IS DISTINCT FROM n.hash) THEN
    RAISE EXCEPTION 'merkle_nodes holds a leaf that differs from its row''s leaf_hash (默克尔叶节点不符): '
      'run cadre-ledger verify and keep its report before migrating';
  END IF;
END $$;
ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_no_update;
DELETE FROM merkle_nodes WHERE level = 0;
ALTER TABLE merkle_nodes ENABLE TRIGGER merkle_nodes_no_update;
ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_above_leaves CHECK (level >= 1);
COMMENT ON TABLE merkle_nodes IS 'Complete subtrees of the Merkle log above the leaves (level >= 1; leaf idx is ledger_events.leaf_hash at position idx + 1), written with the events they cover, in the same transaction (默克尔节点).';
