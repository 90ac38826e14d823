"""Every service names its PostgreSQL connections, so pg_stat_activity tells the ledger's writer from its read
models and the services' pools (operators read it; the benchmark splits PostgreSQL's CPU by it)."""

from __future__ import annotations

from tests.support import System, fetch, wait_until

EXPECTED = {"cadre-ledger-writer", "cadre-ledger-writer-lookups", "cadre-ledger-read-models",
            "cadre-ledger-access-trail", "cadre-ledger-api", "cadre-audit", "cadre-assessment", "cadre-rotation",
            "cadre-rotation-personal"}


async def test_the_running_system_names_its_connections(system: System) -> None:
    async def named() -> set[str]:
        rows = await fetch(system.pg_dsn, "SELECT DISTINCT application_name FROM pg_stat_activity")
        names = {r["application_name"] for r in rows}
        return names if names >= EXPECTED else set()

    names = await wait_until(named, timeout=30)  # fails the test when a name is still missing after 30 s
    assert names >= EXPECTED
