"""A read model whose rules changed is rebuilt by the ledger when it starts; the others are left as they are."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from services.ledger.projections import catch_up
from services.ledger.read_models import all_projections
from services.ledger.read_models.audit_findings import AuditFindingsProjection
from tests.support import System, audit_event, fetch, new_cadre_id, publish, wait_committed, wait_until

VERSIONS = {p.name: p.version for p in all_projections()}


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A private system: the test restarts its ledger."""
    sys_ = System(tmp_path, services=("ledger",)).start()
    yield sys_
    sys_.stop()


async def _rows(system: System, table: str, cadre: str) -> int:
    [row] = await fetch(system.pg_dsn, f"SELECT count(*) AS n FROM {table} WHERE cadre_id = $1", cadre)
    return int(row["n"])


async def _versions(system: System) -> dict[str, int]:
    rows = await fetch(system.pg_dsn, "SELECT name, version FROM read_model_versions")
    return {r["name"]: r["version"] for r in rows}


async def test_a_read_model_built_under_other_rules_is_rebuilt_at_start(own_system: System) -> None:
    cadre = new_cadre_id("RV")
    seqs = await publish(own_system.nats_url, [audit_event(cadre, n) for n in range(1, 4)])
    await wait_committed(own_system.pg_dsn, max(seqs))

    async def projected() -> bool:
        return await _rows(own_system, "rm_audits", cadre) == 3 and await _rows(own_system, "rm_cadres", cadre) == 1

    await wait_until(projected)
    assert await wait_until(lambda: _versions_if_all(own_system)) == VERSIONS, "every read model's version on record"

    # rows made under an older version of audit_findings' rules (here: missing), and rows of the directory lost
    # without any change of its rules: only the first is the ledger's to rebuild when it starts
    await fetch(own_system.pg_dsn, "UPDATE read_model_versions SET version = version - 1 WHERE name = 'audit_findings'")
    await fetch(own_system.pg_dsn, "DELETE FROM rm_audits WHERE cadre_id = $1", cadre)
    await fetch(own_system.pg_dsn, "DELETE FROM rm_cadres WHERE cadre_id = $1", cadre)
    own_system.procs["ledger"].stop()
    await asyncio.to_thread(own_system.start_service, "ledger")

    async def rebuilt() -> bool:
        return await _rows(own_system, "rm_audits", cadre) == 3

    await wait_until(rebuilt)
    assert (await _versions(own_system))["audit_findings"] == VERSIONS["audit_findings"]
    assert await _rows(own_system, "rm_cadres", cadre) == 0, "a read model whose rules did not change is not rebuilt"
    log = own_system.procs["ledger"].log_tail(400)
    assert "rebuilding them from position 0" in log and "audit_findings" in log


async def _versions_if_all(system: System) -> dict[str, int] | None:
    versions = await _versions(system)
    return versions if versions.keys() >= VERSIONS.keys() else None


class _OlderRules(AuditFindingsProjection):
    """The audit findings read model as the release before declared it."""

    version = AuditFindingsProjection.version - 1


async def test_a_runner_of_older_rules_leaves_a_read_model_of_newer_ones_alone(own_system: System) -> None:
    """During a rolling upgrade an older ledger process still projects: it must not add rows of its rules to a
    read model a newer process rebuilt."""
    cadre = new_cadre_id("RV")
    seqs = await publish(own_system.nats_url, [audit_event(cadre, n) for n in range(1, 3)])
    await wait_committed(own_system.pg_dsn, max(seqs))
    await wait_until(lambda: _versions_if_all(own_system))
    own_system.procs["ledger"].stop()  # only this test's runner projects from here on
    await fetch(own_system.pg_dsn, "DELETE FROM projection_checkpoints WHERE name = 'audit_findings'")
    await fetch(own_system.pg_dsn, "TRUNCATE rm_audits, rm_audit_findings")
    current, older = AuditFindingsProjection(), _OlderRules()

    conn = await asyncpg.connect(own_system.pg_dsn)
    try:
        await catch_up(conn, [older], 1000)
        assert await _rows(own_system, "rm_audits", cadre) == 0, "rows of another version's rules"
        await catch_up(conn, [current], 1000)
        assert await _rows(own_system, "rm_audits", cadre) == 2
    finally:
        await conn.close()

