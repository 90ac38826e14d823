"""Ledger reads over HTTP: state as of a date, the feed, the directory read model and its rebuild."""

from __future__ import annotations

import asyncpg

from services.ledger.read_models.directory import CadreDirectory
from services.ledger.rebuild import rebuild
from shared.service import writer_dsn
from shared.settings import Settings
from tests.support import System, audit_body, call, new_cadre_id, prepare_audit, registered_cadre


async def _complete(system: System, cadre: str, audit_id: str, day: str, evaluation: str) -> dict[str, object]:
    """Record an audit (4 events: started, opinion requested and received, completed on `day`)."""
    await prepare_audit(system, cadre, audit_id, completed_on=day)
    status, body, _ = await call("POST", f"{system.url('audit')}/v1/audits/{audit_id}/complete?wait=committed",
                                 audit_body(cadre, occurred_on=day, evaluation=evaluation))
    assert status == 202, body
    return dict(body)


async def test_state_as_of_folds_only_what_had_happened(system: System) -> None:
    cadre = await registered_cadre(system)
    await _complete(system, cadre, "A1", "2021-03-01", "good")
    await _complete(system, cadre, "A2", "2023-09-30", "poor")
    base = f"{system.url('ledger')}/v1/cadres/{cadre}/state"

    status, before, _ = await call("GET", f"{base}?as_of=2021-01-01")
    assert status == 200 and before["events"] == 1 and before["audits"] == {}  # the registration (2010)
    status, mid, _ = await call("GET", f"{base}?as_of=2022-01-01")
    assert mid["events"] == 5 and set(mid["audits"]) == {"A1"}
    status, now, _ = await call("GET", base)
    assert now["events"] == 9 and now["audits"]["A2"]["evaluation"] == "poor"

    status, problem, _ = await call("GET", f"{base}?as_of=2020-02-30")
    assert status == 422 and problem["errors"][0]["field"] == "as_of"
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{new_cadre_id()}/state")
    assert status == 404


async def test_event_feed_pages_in_position_order(system: System) -> None:
    cadre = await registered_cadre(system)
    first = await _complete(system, cadre, "F1", "2020-03-01", "good")
    await _complete(system, cadre, "F2", "2020-04-01", "good")
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/events?after={int(str(first['position'])) - 1}"
                                        "&limit=1")
    assert status == 200
    [row] = page["events"]
    assert row["event"]["id"] == first["event_id"] and page["next_after"] == first["position"]
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/events?limit=100000")
    assert status == 422 and problem["errors"][0]["field"] == "limit"


async def test_directory_read_model_is_projected_and_rebuildable(system: System) -> None:
    cadre = await registered_cadre(system, "DIR")
    await _complete(system, cadre, "D1", "2021-05-01", "good")
    await _complete(system, cadre, "D2", "2022-05-01", "average")

    async def listed() -> dict[str, object] | None:
        _, page, _ = await call("GET", f"{system.url('ledger')}/v1/cadres?prefix={cadre}")
        return page["cadres"][0] if page["cadres"] and page["cadres"][0]["events"] == 9 else None

    from tests.support import wait_until

    entry = await wait_until(listed)
    assert entry["county"] == "431021" and entry["last_label_zh"] == "经济责任审计完成"

    conn = await asyncpg.connect(writer_dsn(Settings(pg_dsn=system.pg_dsn)))
    try:
        before = await conn.fetch("SELECT * FROM rm_cadres ORDER BY cadre_id")
        replayed = await rebuild(conn, CadreDirectory())
        after = await conn.fetch("SELECT * FROM rm_cadres ORDER BY cadre_id")
    finally:
        await conn.close()
    assert replayed >= 2
    assert [dict(r) for r in after] == [dict(r) for r in before], "rebuilt from position 0, same read model"


async def test_state_reads_a_correction_that_moves_a_fact_across_as_of(system: System) -> None:
    cadre = await registered_cadre(system)
    wrong = await _complete(system, cadre, "C1", "2023-09-30", "good")
    base = f"{system.url('ledger')}/v1/cadres/{cadre}/state"
    status, before, _ = await call("GET", f"{base}?as_of=2023-09-29")
    assert status == 200 and before["audits"]["C1"]["completed_on"] is None and before["corrections"] == []

    correction = {"event_id": wrong["event_id"], "reason": "录入错误: 审计报告日期与评价录错"}
    status, fixed, _ = await call("POST", f"{system.url('audit')}/v1/audits/C1/complete?wait=committed",
                                  audit_body(cadre, occurred_on="2023-09-28", evaluation="poor",
                                             correction=correction))
    assert status == 202 and fixed["type"] == "audit.completed.corrected", fixed

    status, after, _ = await call("GET", f"{base}?as_of=2023-09-29")
    assert after["audits"]["C1"]["completed_on"] == "2023-09-28" and after["audits"]["C1"]["evaluation"] == "poor"
    assert after["events"] == before["events"] + 1  # the completion, now dated before as_of; not the correction
    [listed] = after["corrections"]
    assert (listed["kind"], listed["target_id"], listed["event_id"]) == ("corrected", wrong["event_id"],
                                                                         fixed["event_id"])
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert [e["event"]["type"] for e in history["events"]][-2:] == ["audit.completed", "audit.completed.corrected"]
