"""`python -m services.ledger.rebuild`: an operator rebuilds read models from position 0 while the ledger runs."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner

from services.ledger.rebuild import main
from shared.db import WRITER_ROLE, dsn_as
from shared.envelope import new_event
from shared.events.audit import InquirySent
from shared.rulesets import ruleset_for
from shared.settings import get_settings
from tests.support import System, new_cadre_id, publish, wait_committed, wait_until

NAMES = ("inquiries", "notices")


async def _snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: sorted(tuple(r.values()) for r in await conn.fetch(f"SELECT * FROM {t}"))
                for t in ("rm_inquiries", "rm_notices", "rm_notice_objections")}
    finally:
        await conn.close()


async def test_named_read_models_are_rebuilt_to_the_same_rows(system: System) -> None:
    cadre, on = new_cadre_id("RB"), date(2024, 3, 1)
    sent = new_event(event_type="supervision.inquiry_sent", cadre_id=cadre, county="431021", service="audit",
                     data=InquirySent(inquiry_id="HX-RB", due=date(2024, 3, 22)), occurred_on=on,
                     ruleset=ruleset_for("431021", on).id)
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [sent])))

    async def projected() -> bool:
        return any(row[1] == "HX-RB" for row in (await _snapshot(system.pg_dsn))["rm_inquiries"])

    await wait_until(projected)
    before = await _snapshot(system.pg_dsn)
    writer = dsn_as(system.pg_dsn, WRITER_ROLE)
    rebuilt = await asyncio.to_thread(CliRunner().invoke, main, [*NAMES, "--dsn", writer])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt (已重建) inquiries, notices: positions 1.." in rebuilt.stdout
    assert await _snapshot(system.pg_dsn) == before
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        at = dict(await conn.fetch("SELECT name, position FROM projection_checkpoints WHERE name = ANY($1::text[])",
                                   list(NAMES)))
        tip = await conn.fetchval("SELECT max(position) FROM ledger_events")
    finally:
        await conn.close()
    assert at.keys() == set(NAMES) and all(position >= 1 for position in at.values()) and max(at.values()) <= tip


def test_unknown_names_and_an_unreachable_database_are_refused_with_exit_2() -> None:
    unknown = CliRunner().invoke(main, ["inquiries", "nope"])
    assert unknown.exit_code == 2 and "no read model named nope (无此读模型)" in unknown.output
    assert "audit_findings" in unknown.output
    listed = CliRunner().invoke(main, ["--list"])
    assert listed.exit_code == 0 and "inquiries" in listed.stdout.split()
    down = CliRunner().invoke(main, ["inquiries", "--dsn", "postgresql://cadre_writer@127.0.0.1:1/none"])
    assert down.exit_code == 2 and "cannot rebuild (无法重建)" in down.output


def test_no_database_at_all_is_refused_with_exit_2_naming_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CADRE_PG_DSN", "CADRE_PG_WRITER_DSN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["inquiries"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "pass --dsn or set CADRE_PG_WRITER_DSN or CADRE_PG_DSN" in result.output
    assert not isinstance(result.exception, AssertionError), "a usage error, not a traceback"
