"""Full-ledger verification (全账本验证) against PostgreSQL.

`verify_ledger` reads the ledger in one read-only, repeatable-read transaction, streaming rows in
position order through a server-side cursor, so memory grows with the number of cadres and
checkpoints, never with the number of events. It trusts nothing stored except the signed checkpoint
notes, checked with public keys the auditor brings:

- every row: positions run 1..n without gaps; SHA-256(0x00 || canonical) equals the stored leaf
  hash; the query columns (event id, cadre, county, type, dates, rule set, the jsonb copy) say what
  the hashed envelope says;
- every cadre: versions run 1..n in position order and each prev_hash is the leaf hash of the
  cadre's previous event, recomputed from its bytes;
- the Merkle log: the tree is rebuilt from the recomputed leaf hashes (`CompactRange`), its root is
  compared with every signed checkpoint at that checkpoint's size, and every stored node in
  `merkle_nodes` is compared with the rebuilt tree (a full comparison, not a spot check: the nodes
  stream in the order the rebuild completes them, so it costs one more cursor, not memory);
- every checkpoint: its note verifies with a given key and its body states the row's (origin, size,
  root); no two signed checkpoints give one size two roots (a fork); cosigned notes keep the body.

Someone who rewrites rows, hashes, chains and `merkle_nodes` consistently is still caught, because
the roots are recomputed from the rows and compared with notes only the key holder can sign. Rows
appended after the last checkpoint are reported as not yet covered: they are checked, but no
signature vouches for them yet.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from shared.merkle import EMPTY_ROOT, CompactRange
from shared.signednote import Checkpoint, NoteError, Verifier, open_note

Progress = Callable[[int, int], None]
"""Called with (rows verified, rows expected) as the scan advances."""

_ROWS = """SELECT position, event_id::text AS event_id, cadre_id, county, type, occurred_on, ruleset, cadre_version,
                  prev_hash, leaf_hash, canonical, envelope::text AS envelope
           FROM ledger_events ORDER BY position"""
# The order in which CompactRange.append completes nodes: by the last leaf they cover, lowest level first.
_NODES = "SELECT level, idx, hash FROM merkle_nodes ORDER BY (idx + 1) << level::int, level"
_BATCH = 2000


@dataclass(frozen=True)
class Finding:
    """One problem; `exact` when `position` is the row at fault, not the start of a range holding it."""

    position: int | None
    reason: str
    exact: bool = True


@dataclass
class VerifyReport:
    """The outcome of a full-ledger verification."""

    count: int = 0
    seconds: float = 0.0
    origin: str | None = None
    checkpoints: int = 0
    covered_size: int = 0
    nodes_checked: int = 0
    cosignatures: int = 0  # whose witness signature verified with a given witness key
    signed_by: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def events_per_s(self) -> float:
        """Scan speed."""
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def uncovered(self) -> int:
        """Rows after the largest signed checkpoint: checked, but not yet vouched for by a signature."""
        return max(0, self.count - self.covered_size)

    @property
    def first(self) -> Finding | None:
        """The first bad position: exact findings before ranges, then by position."""
        ranked = sorted(self.problems, key=lambda f: (not f.exact, f.position is None, f.position or 0))
        return ranked[0] if ranked else None

    @property
    def first_bad_position(self) -> int | None:
        """Position of the first finding (None when the ledger verifies)."""
        return self.first.position if self.first else None

    @property
    def reason(self) -> str | None:
        """Reason of the first finding."""
        return self.first.reason if self.first else None


@dataclass(frozen=True)
class _Signed:
    """A checkpoint whose note verified: the (size, root) a key holder vouches for."""

    label: str
    size: int
    root: bytes


class _Collector:
    def __init__(self, report: VerifyReport, limit: int) -> None:
        self.report = report
        self.limit = limit

    def add(self, position: int | None, reason: str, exact: bool = True) -> None:
        self.report.problems.append(Finding(position, reason, exact))

    @property
    def full(self) -> bool:
        return len(self.report.problems) >= self.limit


async def verify_ledger(dsn: str, verifiers: Sequence[Verifier], *, witnesses: Sequence[Verifier] = (),
                        external: Sequence[tuple[str, str]] = (), progress: Progress | None = None,
                        max_problems: int = 50) -> VerifyReport:
    """Verify the whole ledger at `dsn` read-only; checkpoints must verify with one of `verifiers`.

    `witnesses` are keys whose cosignatures must verify when present; `external` holds (label, note)
    checkpoints obtained elsewhere (a witness's state, the NATS feed) that the rows must also match,
    which catches a truncation that also deleted the stored checkpoints. The scan stops after
    `max_problems` findings.
    """
    report = VerifyReport()
    found = _Collector(report, max_problems)
    started = time.perf_counter()
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            signed = await _load_checkpoints(conn, verifiers, witnesses, external, report, found)
            total = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))
            await _scan(conn, signed, report, found, total, progress)
    finally:
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report


async def _load_checkpoints(conn: asyncpg.Connection, verifiers: Sequence[Verifier], witnesses: Sequence[Verifier],
                            external: Sequence[tuple[str, str]], report: VerifyReport,
                            found: _Collector) -> list[_Signed]:
    signed: list[_Signed] = []
    bodies: dict[int, str] = {}
    signers: set[str] = set()
    rows = await conn.fetch("SELECT id, origin, size, root, note FROM checkpoints ORDER BY size, id")
    for r in rows:
        label = f"checkpoint #{r['id']}"
        try:
            body, names = open_note(r["note"], verifiers)
            cp = Checkpoint.parse(body)
        except NoteError as exc:
            found.add(r["size"], f"{label} (size {r['size']}): its note does not verify with the given key(s) "
                      f"(检查点签名无效): {exc}", exact=False)
            continue
        if (cp.origin, cp.size, cp.root) != (r["origin"], r["size"], bytes(r["root"])):
            found.add(cp.size, f"{label}: its columns (origin, size, root) differ from its signed note, which "
                      f"says size {cp.size} root {cp.root.hex()} (检查点字段与签名内容不符)", exact=False)
        bodies[r["id"]] = body
        signers.update(names)
        signed.append(_Signed(label, cp.size, cp.root))
        report.origin = report.origin or cp.origin
        if cp.origin != report.origin:
            found.add(cp.size, f"{label}: origin {cp.origin!r} is not the log's origin {report.origin!r} "
                      "(日志来源不一致)", exact=False)
    for label, note in external:
        try:
            body, names = open_note(note, verifiers)
            cp = Checkpoint.parse(body)
        except NoteError as exc:
            found.add(None, f"{label}: does not verify with the given key(s) (检查点签名无效): {exc}", exact=False)
            continue
        signers.update(names)
        signed.append(_Signed(label, cp.size, cp.root))
    await _check_cosignatures(conn, verifiers, witnesses, bodies, report, found)
    _check_forks(signed, found)
    report.checkpoints = len(signed)
    report.covered_size = max((s.size for s in signed), default=0)
    report.signed_by = sorted(signers)
    return sorted(signed, key=lambda s: s.size)


async def _check_cosignatures(conn: asyncpg.Connection, verifiers: Sequence[Verifier],
                              witnesses: Sequence[Verifier], bodies: dict[int, str], report: VerifyReport,
                              found: _Collector) -> None:
    known = {w.name for w in witnesses}
    trusted = list(verifiers) + [w for w in witnesses if all(w.key_id != v.key_id for v in verifiers)]
    rows = await conn.fetch("SELECT id, checkpoint_id, witness, note FROM checkpoint_cosignatures ORDER BY id")
    for r in rows:
        label = f"cosignature #{r['id']} by {r['witness']!r} on checkpoint #{r['checkpoint_id']}"
        try:
            body, names = open_note(r["note"], trusted)
        except NoteError as exc:
            found.add(None, f"{label}: does not verify (联署签名无效): {exc}", exact=False)
            continue
        if r["checkpoint_id"] in bodies and body != bodies[r["checkpoint_id"]]:
            found.add(None, f"{label}: signs a different text than the checkpoint (联署内容与检查点不符)", exact=False)
        elif r["witness"] in known and r["witness"] not in names:
            found.add(None, f"{label}: carries no signature by that witness (缺少见证方签名)", exact=False)
        elif r["witness"] in names:
            report.cosignatures += 1


def _check_forks(signed: list[_Signed], found: _Collector) -> None:
    by_size: dict[int, _Signed] = {}
    for s in signed:
        first = by_size.setdefault(s.size, s)
        if first.root != s.root:
            found.add(s.size, f"position {s.size}: fork (分叉): {first.label} and {s.label} both sign tree size "
                      f"{s.size} with different roots ({first.root.hex()[:16]}… vs {s.root.hex()[:16]}…)")


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


async def _scan(conn: asyncpg.Connection, signed: list[_Signed], report: VerifyReport, found: _Collector,
                total: int, progress: Progress | None) -> None:
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
            for level, idx, value in tree.append(leaf):
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
    extra = await nodes.peek()
    if extra is not None:
        level, idx, _ = extra
        found.add(last_position + 1, f"position {last_position + 1}: missing: merkle_nodes holds node (level "
                  f"{level}, index {idx}) over {_span(level, idx)}, but the ledger ends at position {last_position}")


def _check_row(r: Any, position: int, raw: bytes, leaf: bytes, heads: dict[str, tuple[int, bytes]],
               found: _Collector) -> None:
    if not hmac.compare_digest(leaf, bytes(r["leaf_hash"])):
        found.add(position, f"position {position}: leaf hash does not match canonical bytes (叶哈希与规范字节不符)")
    try:
        env = orjson.loads(raw)
        columns = {"event_id": env["id"], "cadre_id": env["subject"], "county": env["county"], "type": env["type"],
                   "occurred_on": env["occurredon"], "ruleset": env["ruleset"]}
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        found.add(position, f"position {position}: the hashed bytes are not an event envelope (不是事件信封): {exc}")
        env, columns = None, {}
    for column, value in columns.items():
        stored = r[column].isoformat() if column == "occurred_on" else r[column]
        if stored != value:
            found.add(position, f"position {position}: column {column} is {stored!r} but the hashed envelope says "
                      f"{value!r} (查询字段与哈希内容不符)")
            break
    if env is not None and orjson.loads(r["envelope"]) != env:
        found.add(position, f"position {position}: the jsonb copy differs from the hashed bytes (jsonb 副本被改)")
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


async def _check_node(nodes: _NodeStream, level: int, idx: int, value: bytes, found: _Collector) -> None:
    want = _order(level, idx)
    while (stored := await nodes.peek()) is not None and _order(stored[0], stored[1]) < want:
        found.add((stored[1] << stored[0]) + 1, f"{_span(stored[0], stored[1])}: merkle_nodes holds node (level "
                  f"{stored[0]}, index {stored[1]}) that is not in the tree (多余的默克尔节点)", exact=False)
        nodes.pop()
    if stored is None or (stored[0], stored[1]) != (level, idx):
        found.add((idx << level) + 1, f"{_span(level, idx)}: Merkle node (level {level}, index {idx}) is missing "
                  "from merkle_nodes (默克尔节点缺失)", exact=level == 0)
        return
    nodes.pop()
    if not hmac.compare_digest(stored[2], value):
        if level == 0:
            found.add(idx + 1, f"position {idx + 1}: the stored Merkle leaf differs from the hash of the row's bytes "
                      "(存储的默克尔叶节点不符)")
        else:
            found.add((idx << level) + 1, f"{_span(level, idx)}: stored Merkle node (level {level}, index {idx}) "
                      "differs from the tree rebuilt from the rows (存储的默克尔节点不符)", exact=False)


def external_checkpoint(path: Path) -> tuple[str, str]:
    """A checkpoint note kept outside the database: a note file, or a witness state file holding one."""
    text = path.read_text()
    if text.lstrip().startswith("{"):
        text = str(orjson.loads(text).get("note", ""))
    return f"external checkpoint {path}", text
