"""The row-by-row scan: every row, chain and stored Merkle node checked one at a time, each finding named.

This is the scan that words the findings. `verify_ledger` runs it when the range check (`ranges`) or
the merge (`merge`) says something differs, and when a verification must stop early, so the findings,
their order and their wording never depend on which path found the problem first. It streams rows and
nodes through two server-side cursors, so its memory grows with the number of cadres, not of events.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import asyncpg

from shared.merkle import EMPTY_ROOT, CompactRange
from shared.verify.fields import COLUMN_FIELDS, NotAnEnvelope, repeated_fields
from shared.verify.report import Collector, Progress, Signed, VerifyReport

_ROWS = """SELECT position, event_id::text AS event_id, cadre_id, county, type, occurred_on, ruleset, cadre_version,
                  prev_hash, leaf_hash, canonical
           FROM ledger_events ORDER BY position"""
# The order in which CompactRange.append completes nodes: by the last leaf they cover, lowest level first.
_NODES = "SELECT level, idx, hash FROM merkle_nodes ORDER BY (idx + 1) << level::int, level"
_BATCH = 2000


class _NodeStream:
    """The stored Merkle nodes in completion order, fetched a batch at a time."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.buffer: list[Any] = []
        self.at = 0
        self.done = False

    async def peek(self) -> tuple[int, int, bytes] | None:
        if self.at >= len(self.buffer) and not self.done:
            self.buffer, self.at = await self.cursor.fetch(_BATCH * 2), 0
            self.done = len(self.buffer) < _BATCH * 2
        if self.at >= len(self.buffer):
            return None
        r = self.buffer[self.at]
        return int(r["level"]), int(r["idx"]), bytes(r["hash"])

    def pop(self) -> None:
        self.at += 1


def _order(level: int, idx: int) -> tuple[int, int]:
    return (idx + 1) << level, level


def _span(level: int, idx: int) -> str:
    first, last = (idx << level) + 1, (idx + 1) << level
    return f"position {first}" if first == last else f"positions {first}..{last}"


async def scan(conn: asyncpg.Connection, signed: list[Signed], report: VerifyReport, found: Collector,
               total: int, progress: Progress | None) -> None:
    """Check every row and stored node one by one, naming each finding; stops when `found` is full."""
    tree = CompactRange()
    heads: dict[str, tuple[int, bytes]] = {}
    pending = [s for s in signed if s.size > 0]
    for s in signed:
        if s.size == 0 and s.root != EMPTY_ROOT:
            found.add(1, f"{s.label} signs an empty tree with a root other than SHA-256 of nothing", exact=False)
    next_check = 0
    # Largest size whose signed root matched, and the largest before it: a mismatch at size s lies in
    # (largest matched size below s, s], even when another checkpoint of size s did match (a fork).
    good, good_before = 0, 0
    last_position = 0
    nodes = _NodeStream(await conn.cursor(_NODES))
    rows = await conn.cursor(_ROWS)
    while not found.full:
        batch = await rows.fetch(_BATCH)
        for r in batch:
            position = int(r["position"])
            if position != last_position + 1:
                if position > last_position + 1:
                    missing = f"position {last_position + 1}" if position == last_position + 2 else \
                        f"positions {last_position + 1}..{position - 1}"
                    found.add(last_position + 1, f"{missing}: missing, the next row is position {position} "
                              "(位置缺失)")
                else:
                    found.add(position, f"position {position}: out of order or repeated after position "
                              f"{last_position} (位置乱序或重复)")
            last_position = max(last_position, position)
            raw = bytes(r["canonical"])
            leaf = hashlib.sha256(b"\x00" + raw).digest()
            _check_row(r, position, raw, leaf, heads, found)
            for level, idx, value in tree.append(leaf)[1:]:  # the leaf itself is the row's leaf_hash
                await _check_node(nodes, level, idx, value, found)
            report.nodes_checked = tree.size
            report.count += 1
            while next_check < len(pending) and pending[next_check].size == tree.size:
                s = pending[next_check]
                if hmac.compare_digest(tree.root(), s.root):
                    if s.size > good:
                        good, good_before = s.size, good
                else:
                    low = (good if good < s.size else good_before) + 1
                    where = f"position {s.size}" if low == s.size else f"positions {low}..{s.size}"
                    found.add(low, f"{where}: the Merkle root recomputed from the rows differs from the one "
                              f"{s.label} signs for tree size {s.size} (默克尔根与签名检查点不符): a row here was "
                              "altered, removed, inserted or reordered", exact=low == s.size)
                next_check += 1
        if progress:
            progress(report.count, total)
        if len(batch) < _BATCH:
            break
    if found.full:
        report.stopped_early = True
        return
    if next_check < len(pending):
        s = pending[next_check]
        found.add(last_position + 1, f"position {last_position + 1}: missing (账本尾部缺失): {s.label} signs "
                  f"tree size {s.size}, but the ledger ends at position {last_position}")
    while (extra := await nodes.peek()) is not None and (extra[1] + 1) << extra[0] <= last_position:
        _not_in_tree(extra, found)  # a stored leaf (level 0) after the last stored node above it
        nodes.pop()
    if extra is not None:
        level, idx, _ = extra
        found.add(last_position + 1, f"position {last_position + 1}: missing: merkle_nodes holds node (level "
                  f"{level}, index {idx}) over {_span(level, idx)}, but the ledger ends at position {last_position}")


def _check_row(r: Any, position: int, raw: bytes, leaf: bytes, heads: dict[str, tuple[int, bytes]],
               found: Collector) -> None:
    if not hmac.compare_digest(leaf, bytes(r["leaf_hash"])):
        found.add(position, f"position {position}: leaf hash does not match canonical bytes (叶哈希与规范字节不符)")
    try:
        columns = dict(zip(COLUMN_FIELDS, repeated_fields(raw), strict=True))
    except NotAnEnvelope as exc:
        found.add(position, f"position {position}: the hashed bytes are not an event envelope (不是事件信封): {exc}")
        columns = {}
    for column, value in columns.items():
        stored = r[column].isoformat() if column == "occurred_on" else r[column]
        if stored != value:
            found.add(position, f"position {position}: column {column} is {stored!r} but the hashed envelope says "
                      f"{value!r} (查询字段与哈希内容不符)")
            break
    cadre, version = r["cadre_id"], int(r["cadre_version"])
    seen, previous = heads.get(cadre, (0, None))
    stored_prev = bytes(r["prev_hash"]) if r["prev_hash"] is not None else None
    if version != seen + 1:
        found.add(position, f"position {position}: cadre {cadre} version {version} follows version {seen}; versions "
                  "must run 1..n in position order (版本不连续)")
    elif stored_prev != previous:
        found.add(position, f"position {position}: hash chain broken (哈希链断裂): prev_hash of cadre {cadre} "
                  f"version {version} is not the leaf hash of version {seen}")
    heads[cadre] = (version, leaf)


async def _check_node(nodes: _NodeStream, level: int, idx: int, value: bytes, found: Collector) -> None:
    want = _order(level, idx)
    while (stored := await nodes.peek()) is not None and _order(stored[0], stored[1]) < want:
        _not_in_tree(stored, found)
        nodes.pop()
    if stored is None or (stored[0], stored[1]) != (level, idx):
        found.add((idx << level) + 1, f"{_span(level, idx)}: Merkle node (level {level}, index {idx}) is missing "
                  "from merkle_nodes (默克尔节点缺失)", exact=False)
        return
    nodes.pop()
    if not hmac.compare_digest(stored[2], value):
        found.add((idx << level) + 1, f"{_span(level, idx)}: stored Merkle node (level {level}, index {idx}) "
                  "differs from the tree rebuilt from the rows (存储的默克尔节点不符)", exact=False)


def _not_in_tree(stored: tuple[int, int, bytes], found: Collector) -> None:
    level, idx, _ = stored
    found.add((idx << level) + 1, f"{_span(level, idx)}: merkle_nodes holds node (level {level}, index {idx}) that is "
              "not in the stored tree (多余的默克尔节点)" + (": leaves are the rows' leaf_hash" if level == 0 else ""),
              exact=False)
