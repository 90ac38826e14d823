"""Checking one range of positions at a time: two round trips, no Python object per stored node.

A range is a run of positions ``start + 1 .. end`` whose leaf indices ``[start, end)`` begin on a
multiple of its power-of-two size, so the complete Merkle subtrees inside it are exactly the stored
nodes ``(level, idx)`` with ``start >> level <= idx < end >> level``, from level 1 up (the leaves are
the rows' leaf hashes). One query brings the range's rows, another its stored nodes, one byte string
per level (no Python object per node); the Python side then recomputes what matters and compares in
bulk.

The outcome is all or nothing: a range is *clean* when everything in it is as a sound ledger has it;
otherwise nothing more is said, and the row-by-row scan (`rowscan`) words the findings. What crosses
range boundaries (chains, the tree above the range, checkpoint roots) is returned for `merge`.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.verify.fields import repeated_fields_of

# The query columns travel as text, each as the envelope field says it: char(6) as asyncpg reads it
# (padded, as the row-by-row scan compares it), dates as ISO 8601, as the envelope writes them (DateStyle
# ISO, see SETTINGS; to_char cost PostgreSQL a third more per row). Rows come as rows: PostgreSQL builds
# no array of them (aggregating and sending the envelopes as one array cost it three times what sending
# them as rows does), and asyncpg decodes them in C. The repeated columns come last, in `COLUMN_FIELDS` order, so
# that a row's are one slice of its record (one subscript instead of six).
ROWS_QUERY = """
SELECT position, cadre_version, prev_hash, leaf_hash, canonical,
       event_id::text, cadre_id, county, type, occurred_on::text, ruleset
FROM ledger_events WHERE position > $1::bigint AND position <= $2::bigint ORDER BY position"""
"""Parameters: start, end (leaf indices, [start, end))."""

NODES_QUERY = """
WITH levels AS (
  SELECT l.level, agg.n, agg.hashes, agg.sized
  FROM generate_series(0, $3::int) AS l(level),
  LATERAL (SELECT count(*) AS n, coalesce(string_agg(hash, ''::bytea ORDER BY idx), ''::bytea) AS hashes,
                  coalesce(bool_and(octet_length(hash) = 32), true) AS sized
           FROM merkle_nodes WHERE level = l.level AND idx >= $1::bigint >> l.level
                                   AND idx < $2::bigint >> l.level) AS agg)
SELECT (SELECT array_agg(n ORDER BY level) FROM levels) AS node_counts,
       (SELECT array_agg(hashes ORDER BY level) FROM levels) AS node_hashes,
       (SELECT bool_and(sized) FROM levels) AS nodes_sized,
       (SELECT array_agg(ARRAY[n.level::bigint, n.idx] ORDER BY n.level, n.idx)
        FROM merkle_nodes n JOIN unnest($4::int[], $5::bigint[]) AS u(level, idx)
          ON n.level = u.level AND n.idx = u.idx) AS upper_ids,
       (SELECT array_agg(n.hash ORDER BY n.level, n.idx)
        FROM merkle_nodes n JOIN unnest($4::int[], $5::bigint[]) AS u(level, idx)
          ON n.level = u.level AND n.idx = u.idx) AS upper_hashes"""
"""Parameters: start, end (leaf indices, [start, end)), the range's level (log2 of its size), and the
levels and indices of the stored nodes above the range that it completes. One row: the stored nodes
inside the range one byte string per level (small, so aggregated), and those above it."""
SETTINGS = "SET LOCAL enable_bitmapscan = off; SET LOCAL DateStyle = 'ISO'"
"""For the transaction that reads ranges: dates printed as ISO 8601 whatever the server's default; and
no bitmap scans: the planner guesses a sixth of a level's nodes in a range and takes a bitmap scan,
whose rows then need sorting, where the index scan brings them in order (a third less of PostgreSQL's
time for the nodes, measured on a 300,000-event ledger)."""
_POSITION, _CHAIN, _LEAF, _CANONICAL = (operator.itemgetter(0), operator.itemgetter(6, 1, 2), operator.itemgetter(3),
                                        operator.itemgetter(4))
_COLUMNS = operator.itemgetter(slice(5, 11))
"""A row's `COLUMN_FIELDS` columns, in that order (cadre_id is also a chain column, so it comes once)."""

ChainEnds = dict[str, tuple[int, bytes | None, int, bytes]]
"""Per cadre in a range: (first version, its prev_hash, last version, its recomputed leaf hash)."""


@dataclass(frozen=True)
class Span:
    """A range to check, the checkpoint sizes inside it (``start < size <= end``), the nodes above it it completes."""

    start: int
    end: int
    level: int
    sizes: tuple[int, ...] = ()
    upper: tuple[tuple[int, int], ...] = ()


@dataclass
class Outcome:
    """What a clean range tells the merge; `clean` False means: scan row by row to say what differs."""

    span: Span
    clean: bool
    chains: ChainEnds = field(default_factory=dict)
    frontier: list[bytes] = field(default_factory=list)
    """The range's complete subtrees that make up [start, end), largest first."""
    prefixes: dict[int, list[bytes]] = field(default_factory=dict)
    """For each checkpoint size in the range: the complete subtrees making up [start, size), largest first."""
    upper: list[tuple[int, int, bytes]] = field(default_factory=list)
    """The stored nodes at `Span.upper`, as (level, idx, hash), by level: the merge compares them."""


Fetched = tuple[list[Any], Any]
"""A range as read: its rows (`ROWS_QUERY`) and its stored nodes (`NODES_QUERY`)."""


async def fetch(conn: asyncpg.Connection, span: Span) -> Fetched:
    """The range's rows and stored nodes, in two queries."""
    rows = await conn.fetch(ROWS_QUERY, span.start, span.end)
    nodes = await conn.fetchrow(NODES_QUERY, span.start, span.end, span.level,
                                [level for level, _ in span.upper], [idx for _, idx in span.upper])
    return rows, nodes


def check(span: Span, fetched: Fetched) -> Outcome:
    """Recompute leaves, tree and chains of one range from its fetched rows and compare with what is stored."""
    dirty = Outcome(span, clean=False)
    rows, nodes = fetched
    count = span.end - span.start
    if len(rows) != count:
        return dirty
    if list(map(_POSITION, rows)) != list(range(span.start + 1, span.end + 1)):
        return dirty
    canonical = list(map(_CANONICAL, rows))
    if not _columns_agree(canonical, rows):
        return dirty
    sha256 = hashlib.sha256
    leaves = [sha256(b"\x00" + raw).digest() for raw in canonical]
    if list(map(_LEAF, rows)) != leaves:
        return dirty
    chains = _chains(rows, leaves)
    if chains is None:
        return dirty
    levels = _tree(b"".join(leaves), count, nodes["node_counts"], nodes["node_hashes"], nodes["nodes_sized"],
                   span.level)
    if levels is None:
        return dirty
    upper = [(int(level), int(idx), bytes(value))
             for (level, idx), value in zip(nodes["upper_ids"] or [], nodes["upper_hashes"] or [], strict=True)]
    return Outcome(span, True, chains, _subtrees(levels, span.start, span.start, span.end),
                   {size: _subtrees(levels, span.start, span.start, size) for size in span.sizes}, upper)


def _columns_agree(canonical: Sequence[bytes], rows: Sequence[Any]) -> bool:
    """Every row's query columns (`COLUMN_FIELDS`) are the JSON strings its hashed envelope holds in those fields.

    Each envelope is read here, from the bytes this process hashes, as the row-by-row scan reads it.
    """
    said = repeated_fields_of(canonical)
    return said is not None and said == list(map(_COLUMNS, rows))  # in COLUMN_FIELDS order


def _chains(rows: Sequence[Any], leaves: Sequence[bytes]) -> ChainEnds | None:
    """Versions run on and each prev_hash is the recomputed leaf of the cadre's previous event in the range."""
    ends: ChainEnds = {}
    for (cadre, version, prev), leaf in zip(map(_CHAIN, rows), leaves, strict=True):
        seen = ends.get(cadre)
        if seen is None:
            ends[cadre] = (version, prev, version, leaf)
        elif version != seen[2] + 1 or prev != seen[3]:
            return None
        else:
            ends[cadre] = (seen[0], seen[1], version, leaf)
    return ends


def _tree(level: bytes, count: int, counts: Sequence[int], stored: Sequence[bytes], sized: bool,
          top: int) -> list[bytes] | None:
    """Every level of the range's tree, rebuilt from the leaves, if the stored nodes are exactly its levels above 0.

    Level l is the concatenation of the range's complete subtrees of height l, left to right. Leaves are
    the rows' leaf_hash (already compared), never stored as nodes, so a stored level-0 node is a difference.
    """
    if not sized or counts[0]:
        return None
    sha256 = hashlib.sha256
    levels = [level]
    for height in range(1, top + 1):
        level = b"".join([sha256(b"\x01" + level[i:i + 64]).digest() for i in range(0, len(level) - 63, 64)])
        if counts[height] != count >> height or stored[height] != level:
            return None
        levels.append(level)
    return levels


def _subtrees(levels: Sequence[bytes], base: int, start: int, end: int) -> list[bytes]:
    """The complete subtrees making up leaves [start, end) of a range beginning at `base`, largest first."""
    out: list[bytes] = []
    offset, remaining = start - base, end - start
    for height in range(len(levels) - 1, -1, -1):
        if remaining >> height & 1:
            idx = offset >> height
            out.append(levels[height][idx * 32:(idx + 1) * 32])
            offset += 1 << height
    return out
