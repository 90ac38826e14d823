"""Tampering as a PostgreSQL superuser against a running ledger; `verify` names the position every time.

The append-only triggers stop UPDATE, DELETE and TRUNCATE even for a superuser, so each test first
does what an attacker holding the superuser would do: `ALTER TABLE ... DISABLE TRIGGER USER`.
Every test gets a private system, because it ruins its ledger.

The ledger holds 12 events of 3 cadres, interleaved, with a signed checkpoint after each one:
cadre A at positions 1, 4, 7, 10; B at 2, 5, 8, 11; C at 3, 6, 9, 12.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner

from services.ledger.main import MIGRATIONS
from shared.cli import main
from shared.db import migrate
from shared.devstack import PG_DATABASE
from shared.keys import load_signer, load_verifier
from shared.merkle import CompactRange
from shared.signednote import Checkpoint, sign_note
from shared.verify import VerifyReport, external_checkpoint, verify_ledger
from tests.support import System, audit_event, call, publish, wait_committed, wait_until

CADRES = ("A", "B", "C")
EVENTS_PER_CADRE = 4
LEDGER_TABLES = ("ledger_events", "merkle_nodes", "checkpoints")


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[System]:
    """A private system whose ledger holds the 12 events above, each followed by a signed checkpoint."""
    # Checkpoints only on demand here, so that none appears by timer while a test tampers.
    quiet = {"CADRE_CHECKPOINT_EVERY_S": "3600", "CADRE_CHECKPOINT_EVERY_N": "100000"}
    sys_ = await asyncio.to_thread(System(tmp_path, services=("ledger",), extra_env=quiet).start)
    try:
        for version in range(EVENTS_PER_CADRE):
            for cadre in CADRES:
                seqs = await publish(sys_.nats_url, [audit_event(cadre, version)])
                await wait_committed(sys_.pg_dsn, seqs[0])
                status, _, _ = await call("POST", f"{sys_.url('ledger')}/v1/checkpoints")
                assert status == 201
        yield sys_
    finally:
        await asyncio.to_thread(sys_.stop)


def ledger_key(system: System) -> str:
    return Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text().strip()


async def verify(system: System, **kwargs: Any) -> VerifyReport:
    """Verify as `cadre-ledger verify` does, and again by ranges of 4 in 2 worker processes: same answer.

    The ranges cut the 12 events into 3, so a tampered row is inside a range, on a range boundary, or
    in the chains and tree joined across ranges; the workers read through the exported snapshot.
    """
    keys = [load_verifier(ledger_key(system))]
    report = await verify_ledger(system.pg_dsn, keys, **kwargs)
    ranged = await verify_ledger(system.pg_dsn, keys, workers=2, range_size=4, **kwargs)
    assert (ranged.problems, ranged.count, ranged.nodes_checked, ranged.covered_size, ranged.row_by_row) == (
        report.problems, report.count, report.nodes_checked, report.covered_size, report.row_by_row)
    assert report.row_by_row == (not report.ok), "only a ledger with findings is scanned row by row"
    return report


async def as_superuser(system: System, *statements: str) -> None:
    """Run statements as the superuser with the append-only triggers off, as an attacker would."""
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        async with conn.transaction():
            for table in LEDGER_TABLES:
                await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for statement in statements:
                await conn.execute(statement)
            for table in LEDGER_TABLES:
                await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    finally:
        await conn.close()


EDIT_ROW_7 = """UPDATE ledger_events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'),
                '"evaluation":"good"', '"evaluation":"poor"'), 'UTF8') WHERE position = 7"""
RECOMPUTE_ROW_7 = """UPDATE ledger_events SET leaf_hash = sha256('\\x00'::bytea || canonical) WHERE position = 7"""


async def test_an_untouched_ledger_verifies(ledger: System) -> None:
    report = await verify(ledger)
    assert report.ok, report.problems
    assert report.count == 12 and report.covered_size == 12 and report.uncovered == 0
    assert report.nodes_checked == 12 and report.first_bad_position is None


async def test_a_server_printing_dates_otherwise_still_verifies_by_ranges(ledger: System) -> None:
    """The range check compares dates as PostgreSQL prints them, so it sets the style it expects."""
    await as_superuser(ledger, f"ALTER DATABASE {PG_DATABASE} SET DateStyle = 'SQL, DMY'")
    conn = await asyncpg.connect(ledger.pg_dsn)
    try:
        assert await conn.fetchval("SELECT DATE '2020-01-31'::text") == "31/01/2020"
    finally:
        await conn.close()
    report = await verify(ledger)
    assert report.ok and not report.row_by_row, report.problems


async def test_edited_row_is_named(ledger: System) -> None:
    await as_superuser(ledger, EDIT_ROW_7)
    report = await verify(ledger)
    assert not report.ok
    assert report.first_bad_position == 7
    assert report.reason == "position 7: leaf hash does not match canonical bytes (叶哈希与规范字节不符)"


async def test_edited_row_with_recomputed_leaf_hash_is_named(ledger: System) -> None:
    """The row agrees with itself; the signed root of size 7 (a checkpoint per event here), the stored node over
    the row and its neighbour, and the chain after it do not."""
    await as_superuser(ledger, EDIT_ROW_7, RECOMPUTE_ROW_7)
    report = await verify(ledger)
    reasons = [f.reason for f in report.problems]
    assert report.first_bad_position == 7
    assert report.reason is not None and report.reason.startswith("position 7: the Merkle root recomputed"), reasons
    assert any(r.startswith("position 10: hash chain broken") for r in reasons), reasons
    assert any(r.startswith("positions 7..8: stored Merkle node (level 1, index 3) differs") for r in reasons), reasons


async def test_deleted_row_is_named(ledger: System) -> None:
    await as_superuser(ledger, "DELETE FROM ledger_events WHERE position = 7")
    report = await verify(ledger)
    assert report.first_bad_position == 7
    assert report.reason == "position 7: missing, the next row is position 8 (位置缺失)"


async def test_proofs_over_a_damaged_tree_say_what_is_missing(ledger: System) -> None:
    """A deleted row (a leaf) or Merkle node turns a proof into a problem naming the missing node, not a bare 500."""
    await as_superuser(ledger, "DELETE FROM ledger_events WHERE position = 7",
                       "DELETE FROM merkle_nodes WHERE level = 2 AND idx = 0")
    base = ledger.url("ledger")
    for path, node in (("/v1/proofs/inclusion?position=7&size=12", [0, 6]),
                       ("/v1/proofs/inclusion?position=5&size=12", [2, 0]),
                       ("/v1/proofs/consistency?first=5&second=12", [2, 0])):
        status, body, headers = await call("GET", base + path)
        assert status == 500, (path, body)
        assert headers["Content-Type"].startswith("application/problem+json")
        assert body["type"].endswith("/inconsistent") and "默克尔树节点缺失" in body["detail"], body
        assert node in body["missing"] and "cadre-ledger verify" in body["detail"]
    status, body, _ = await call("GET", base + "/v1/proofs/inclusion?position=3&size=12")
    assert status == 200, "a proof that needs none of what is missing is still given"
    assert "request failed: the stored Merkle tree lacks" in ledger.procs["ledger"].log_path.read_text(errors="replace")
    status, spec, _ = await call("GET", base + "/openapi.json")
    assert "500" in spec["paths"]["/v1/proofs/inclusion"]["get"]["responses"], "documented where integrators look"


async def test_swapped_rows_are_named(ledger: System) -> None:
    await as_superuser(ledger, "UPDATE ledger_events SET position = 1000 WHERE position = 4",
                       "UPDATE ledger_events SET position = 4 WHERE position = 8",
                       "UPDATE ledger_events SET position = 8 WHERE position = 1000")
    report = await verify(ledger)
    assert report.first_bad_position == 4
    positions = {f.position for f in report.problems if f.exact}
    assert {4, 8} <= positions, report.problems


async def test_truncated_tail_is_named(ledger: System) -> None:
    _, latest, _ = await call("GET", f"{ledger.url('ledger')}/v1/checkpoints/latest")
    kept_elsewhere = Path(ledger.root) / "published-checkpoint.note"
    kept_elsewhere.write_text(latest["note"])

    await as_superuser(ledger, "DELETE FROM ledger_events WHERE position > 9")
    report = await verify(ledger)
    assert report.first_bad_position == 10
    assert report.reason is not None and report.reason.startswith("position 10: missing (账本尾部缺失)")

    # Deleting the covering checkpoints and nodes too leaves a shorter log that is valid on its own:
    # only a checkpoint kept outside the database (published on NATS, held by a witness) catches it.
    await as_superuser(ledger, "DELETE FROM merkle_nodes WHERE (idx + 1) << level::int > 9",
                       "DELETE FROM checkpoints WHERE size > 9")
    alone = await verify(ledger)
    assert alone.ok and alone.count == 9
    outside = await verify(ledger, external=[external_checkpoint(kept_elsewhere)])
    assert outside.first_bad_position == 10
    assert "position 10: missing" in (outside.reason or "")
    result = await asyncio.to_thread(CliRunner().invoke, main, [
        "verify", "--dsn", ledger.pg_dsn, "--key", ledger_key(ledger), "--checkpoint", str(kept_elsewhere)])
    assert result.exit_code == 1 and "FAILED (验证失败): position 10: missing" in result.output


async def test_consistent_rewrite_is_caught_only_by_the_signed_checkpoints(ledger: System) -> None:
    conn = await asyncpg.connect(ledger.pg_dsn)
    try:
        rows = await conn.fetch("SELECT position, cadre_id, canonical FROM ledger_events ORDER BY position")
    finally:
        await conn.close()
    # The attacker's new history: row 7 says "poor", and every hash that depends on it is recomputed.
    canonical = {r["position"]: bytes(r["canonical"]) for r in rows}
    canonical[7] = canonical[7].replace(b'"evaluation":"good"', b'"evaluation":"poor"')
    assert canonical[7] != bytes(rows[6]["canonical"])
    leaves = {p: hashlib.sha256(b"\x00" + c).digest() for p, c in canonical.items()}
    tree = CompactRange()
    nodes = tree.extend((leaves[p] for p in sorted(leaves)), with_leaves=False)
    values = ", ".join(f"({level}, {idx}, '\\x{value.hex()}'::bytea)" for level, idx, value in nodes)
    await as_superuser(
        ledger,
        EDIT_ROW_7, RECOMPUTE_ROW_7,
        f"UPDATE ledger_events SET prev_hash = '\\x{leaves[7].hex()}'::bytea WHERE position = 10",
        "DELETE FROM merkle_nodes",
        f"INSERT INTO merkle_nodes (level, idx, hash) VALUES {values}")

    report = await verify(ledger)
    assert report.first_bad_position == 7
    assert report.problems and all("Merkle root recomputed from the rows differs" in f.reason
                                   for f in report.problems), report.problems
    assert report.reason is not None and report.reason.startswith("position 7: the Merkle root recomputed")


async def test_fork_of_two_checkpoints_of_one_size_is_named(ledger: System) -> None:
    signer = load_signer(Path(ledger.env["CADRE_CHECKPOINT_KEY_FILE"]))
    _, latest, _ = await call("GET", f"{ledger.url('ledger')}/v1/checkpoints/latest")
    origin = Checkpoint.parse(latest["note"].split("\n\n")[0] + "\n").origin
    forged_root = os.urandom(32)
    note = sign_note(Checkpoint(origin, 6, forged_root).to_note_body(), [signer])
    conn = await asyncpg.connect(ledger.pg_dsn)
    try:  # INSERT is allowed by the triggers; the key is what the attacker needed
        await conn.execute("INSERT INTO checkpoints (origin, size, root, note) VALUES ($1, 6, $2, $3)",
                           origin, forged_root, note)
    finally:
        await conn.close()

    report = await verify(ledger)
    assert report.first_bad_position == 6
    assert report.reason is not None and report.reason.startswith("position 6: fork (分叉)")
    assert any(f.reason.startswith("position 6: the Merkle root recomputed") for f in report.problems)


async def test_a_busy_ledger_verifies_with_bounded_batches(ledger: System) -> None:
    events = [audit_event(f"K{n % 37:02d}", n) for n in range(3000)]
    seqs = await publish(ledger.nats_url, events)
    await wait_committed(ledger.pg_dsn, max(seqs), timeout=60)

    async def signed() -> bool:
        _, cp, _ = await call("POST", f"{ledger.url('ledger')}/v1/checkpoints")
        return bool(cp["size"] == 3012)

    await wait_until(signed)
    seen: list[tuple[int, int]] = []
    report = await verify(ledger, progress=lambda done, total: seen.append((done, total)))
    assert report.ok, report.problems[:3]
    assert report.count == 3012 and report.events_per_s > 0
    assert len(seen) >= 2 and seen[-1] == (3012, 3012)


def flip(table: str, column: str, where: str) -> str:
    """Flip one bit of a hash: the same statement undoes it."""
    return f"UPDATE {table} SET {column} = set_byte({column}, 0, get_byte({column}, 0) # 1) WHERE {where}"


def _append_to_canonical(position: int, byte: str) -> str:
    """One byte added to a row's hashed bytes, its leaf hash recomputed from them."""
    return (f"UPDATE ledger_events SET canonical = canonical || '{byte}'::bytea, "
            f"leaf_hash = sha256('\\x00'::bytea || canonical || '{byte}'::bytea) WHERE position = {position}")


def _strip_canonical(position: int) -> str:
    """Undo `_append_to_canonical`."""
    stripped = "substring(canonical from 1 for length(canonical) - 1)"
    return (f"UPDATE ledger_events SET canonical = {stripped}, leaf_hash = sha256('\\x00'::bytea || {stripped}) "
            f"WHERE position = {position}")


def _in_first_data_key(position: int, replacement: str, length: int) -> str:
    """Bytes put into the first key of a row's `data` (replacing `length` of them), its leaf hash recomputed."""
    at = "position('\"data\":{\"'::bytea in canonical) + 9"
    changed = f"overlay(canonical placing '{replacement}'::bytea from {at} for {length})"
    return f"UPDATE ledger_events SET canonical = {changed}, leaf_hash = sha256('\\x00'::bytea || {changed}) " \
           f"WHERE position = {position}"


ENVELOPE = "convert_from(canonical, 'UTF8')::jsonb"
# (what the attacker changes, how the test undoes it, the first finding's start). Cadre B is at 2, 5, 8, 11.
ONE_CHANGE = [
    # Hashed bytes that are not JSON (not UTF-8; not JSON), the leaf hash made to match them.
    (_append_to_canonical(10, "\\xff"), _strip_canonical(10),
     "position 10: the hashed bytes are not an event envelope (不是事件信封)"),
    (_append_to_canonical(10, "\\x7d"), _strip_canonical(10),
     "position 10: the hashed bytes are not an event envelope (不是事件信封)"),
    # Valid JSON syntax around bytes that are not UTF-8, inside data: a string no field check reads.
    (_in_first_data_key(10, "\\xff", 0), _in_first_data_key(10, "", 1),
     "position 10: the hashed bytes are not an event envelope (不是事件信封)"),
    ("UPDATE ledger_events SET county = '431022' WHERE position = 6",
     f"UPDATE ledger_events SET county = {ENVELOPE}->>'county' WHERE position = 6",
     "position 6: column county is '431022' but the hashed envelope says '431021'"),
    ("UPDATE ledger_events SET occurred_on = occurred_on + 1 WHERE position = 3",
     f"UPDATE ledger_events SET occurred_on = ({ENVELOPE}->>'occurredon')::date WHERE position = 3",
     "position 3: column occurred_on is"),
    ("UPDATE ledger_events SET type = 'audit.started' WHERE position = 1",
     f"UPDATE ledger_events SET type = {ENVELOPE}->>'type' WHERE position = 1",
     "position 1: column type is 'audit.started' but the hashed envelope says 'audit.completed'"),
    ("UPDATE ledger_events SET ruleset = '431021@1999.1' WHERE position = 12",
     f"UPDATE ledger_events SET ruleset = {ENVELOPE}->>'ruleset' WHERE position = 12",
     "position 12: column ruleset is '431021@1999.1' but the hashed envelope says"),
    ("UPDATE ledger_events SET event_id = '00000000-0000-4000-8000-000000000007' WHERE position = 7",
     f"UPDATE ledger_events SET event_id = ({ENVELOPE}->>'id')::uuid WHERE position = 7",
     "position 7: column event_id is '00000000-0000-4000-8000-000000000007' but the hashed envelope says"),
    ("UPDATE ledger_events SET cadre_version = 9 WHERE position = 8",
     "UPDATE ledger_events SET cadre_version = 3 WHERE position = 8",
     "position 8: cadre B version 9 follows version 2"),
    ("UPDATE ledger_events SET prev_hash = leaf_hash WHERE position = 9",
     "UPDATE ledger_events SET prev_hash = (SELECT leaf_hash FROM ledger_events WHERE position = 6) WHERE position = 9",
     "position 9: hash chain broken (哈希链断裂)"),
    (flip("ledger_events", "leaf_hash", "position = 4"), flip("ledger_events", "leaf_hash", "position = 4"),
     "position 4: leaf hash does not match canonical bytes"),
    # Leaves are the rows' leaf_hash: a copy in merkle_nodes, even a true one, is not part of the stored tree.
    ("ALTER TABLE merkle_nodes DROP CONSTRAINT merkle_nodes_above_leaves; INSERT INTO merkle_nodes (level, idx, hash) "
     "SELECT 0, 10, leaf_hash FROM ledger_events WHERE position = 11",
     "DELETE FROM merkle_nodes WHERE level = 0; "
     "ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_above_leaves CHECK (level >= 1)",
     "position 11: merkle_nodes holds node (level 0, index 10) that is not in the stored tree (多余的默克尔节点): "
     "leaves are the rows' leaf_hash"),
    (flip("merkle_nodes", "hash", "level = 1 AND idx = 5"), flip("merkle_nodes", "hash", "level = 1 AND idx = 5"),
     "positions 11..12: stored Merkle node (level 1, index 5) differs from the tree rebuilt from the rows"),
    # Above the ranges of 4: only the join of ranges rebuilds this node.
    (flip("merkle_nodes", "hash", "level = 3 AND idx = 0"), flip("merkle_nodes", "hash", "level = 3 AND idx = 0"),
     "positions 1..8: stored Merkle node (level 3, index 0) differs from the tree rebuilt from the rows"),
    ("INSERT INTO merkle_nodes (level, idx, hash) VALUES (5, 0, sha256('x'))",
     "DELETE FROM merkle_nodes WHERE level = 5",
     "position 13: missing: merkle_nodes holds node (level 5, index 0) over positions 1..32"),
    # Below every range: only the probe for indices under 0 finds it on the ranges' path.
    ("ALTER TABLE merkle_nodes DROP CONSTRAINT merkle_nodes_idx_check; "
     "INSERT INTO merkle_nodes (level, idx, hash) VALUES (1, -1, sha256('x'))",
     "DELETE FROM merkle_nodes WHERE idx < 0; "
     "ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_idx_check CHECK (idx >= 0)",
     "positions -1..0: merkle_nodes holds node (level 1, index -1) that is not in the stored tree"),
]


async def test_every_single_change_is_named_by_both_paths(ledger: System) -> None:
    for change, undo, first in ONE_CHANGE:
        await as_superuser(ledger, change)
        report = await verify(ledger)
        assert report.reason is not None and report.reason.startswith(first), (change, report.problems)
        await as_superuser(ledger, undo)
        assert (await verify(ledger)).ok, undo

    node = await fetch_node(ledger, 1, 2)
    await as_superuser(ledger, "DELETE FROM merkle_nodes WHERE level = 1 AND idx = 2")
    report = await verify(ledger)
    assert report.reason == ("positions 5..6: Merkle node (level 1, index 2) is missing from merkle_nodes "
                             "(默克尔节点缺失)")
    await as_superuser(ledger, f"INSERT INTO merkle_nodes (level, idx, hash) VALUES (1, 2, '\\x{node.hex()}'::bytea)")
    assert (await verify(ledger)).ok


async def fetch_node(system: System, level: int, idx: int) -> bytes:
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        return bytes(await conn.fetchval("SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2", level, idx))
    finally:
        await conn.close()


async def _ledger_as_before_035(system: System, tmp_path: Path, name: str) -> str:
    """A scratch database migrated up to 034 holding the system's rows, checkpoints and Merkle nodes as the
    writer stored them then: every leaf copied into merkle_nodes at level 0."""
    before = tmp_path / f"migrations-{name}"
    before.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        if int(path.name[:3]) < 35:
            shutil.copy(path, before / path.name)
    admin = await asyncpg.connect(system.pg_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = system.pg_dsn.rsplit("/", 1)[0] + f"/{name}"
    assert await migrate(dsn, before) == sorted(int(p.name[:3]) for p in before.glob("*.sql"))
    source, target = await asyncpg.connect(system.pg_dsn), await asyncpg.connect(dsn)
    try:
        for table, order in (("ledger_events", "position"), ("checkpoints", "id"), ("merkle_nodes", "level, idx")):
            rows = await source.fetch(f"SELECT * FROM {table} ORDER BY {order}")
            await target.copy_records_to_table(table, records=[tuple(r.values()) for r in rows],
                                               columns=list(rows[0].keys()))
        await target.execute("INSERT INTO merkle_nodes (level, idx, hash) "
                             "SELECT 0, position - 1, leaf_hash FROM ledger_events")
    finally:
        await source.close()
        await target.close()
    return dsn


async def test_migration_035_drops_the_leaf_copies_and_the_ledger_still_verifies(ledger: System,
                                                                                  tmp_path: Path) -> None:
    dsn = await _ledger_as_before_035(ledger, tmp_path, "leaves_copied")
    conn = await asyncpg.connect(dsn)
    try:
        inner = await conn.fetchval("SELECT count(*) FROM merkle_nodes WHERE level > 0")
        assert await conn.fetchval("SELECT count(*) FROM merkle_nodes WHERE level = 0") == 12
        assert (await migrate(dsn, MIGRATIONS))[0] == 35  # and any later ones
        assert await conn.fetchval("SELECT count(*) FROM merkle_nodes WHERE level = 0") == 0
        assert await conn.fetchval("SELECT count(*) FROM merkle_nodes") == inner
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO merkle_nodes (level, idx, hash) VALUES (0, 12, sha256('x'))")
    finally:
        await conn.close()
    report = await verify_ledger(dsn, [load_verifier(ledger_key(ledger))])
    assert report.ok and report.count == 12 and report.covered_size == 12, report.problems


async def test_migration_035_refuses_a_leaf_copy_that_differs_and_changes_nothing(ledger: System,
                                                                                   tmp_path: Path) -> None:
    dsn = await _ledger_as_before_035(ledger, tmp_path, "leaf_differs")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE merkle_nodes DISABLE TRIGGER USER")
        await conn.execute(flip("merkle_nodes", "hash", "level = 0 AND idx = 6"))
        with pytest.raises(asyncpg.RaiseError, match="默克尔叶节点不符"):
            await migrate(dsn, MIGRATIONS)
        assert await conn.fetchval("SELECT count(*) FROM merkle_nodes WHERE level = 0") == 12
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 34
    finally:
        await conn.close()
