"""Every read of a dossier is on record: who, when, what and why, queryable by operators."""

from __future__ import annotations

from tests.support import System, audit_event, call, new_cadre_id, publish, wait_committed, wait_until


async def test_reads_of_history_state_and_bundle_are_recorded(system: System) -> None:
    assert system.stack is not None
    cadre = new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    ledger = system.url("ledger")
    reader = system.stack.dev_token(["auditor"], ["431021"])
    for path in (f"/v1/cadres/{cadre}/history?purpose=巡视抽查", f"/v1/cadres/{cadre}/state?as_of=2024-01-01",
                 f"/v1/cadres/{cadre}/bundle?purpose=offline%20check"):
        assert (await call("GET", ledger + path, token=reader))[0] == 200

    async def filed() -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return page["entries"] if len(page["entries"]) >= 3 else None

    entries = await wait_until(filed, timeout=20)
    assert [e["what"].split()[0] for e in entries] == ["history", "state", "bundle"]
    assert [e["purpose"] for e in entries] == ["巡视抽查", "(none given / 未说明)", "offline check"]
    assert all(e["principal"] == "dev-auditor" and e["roles"] == ["auditor"] for e in entries)
    assert "as_of=2024-01-01" in entries[1]["what"]

    status, problem, _ = await call("GET", f"{ledger}/v1/access", token=reader)
    assert status == 403 and problem["required_role"] == "operator", "only operators read the trail"


async def test_refused_and_missing_reads_are_on_record_too(system: System) -> None:
    assert system.stack is not None
    cadre = new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    ledger = system.url("ledger")
    outsider = system.stack.dev_token(["auditor"], ["430000"])
    status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose=probe", token=outsider)
    assert status == 403 and problem["counties"] == ["431021"]
    missing = new_cadre_id()
    assert (await call("GET", f"{ledger}/v1/cadres/{missing}/state"))[0] == 404

    async def filed(who: str) -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={who}")
        assert status == 200
        return page["entries"] or None

    refused = await wait_until(lambda: filed(cadre), timeout=20)
    assert [(e["what"], e["purpose"]) for e in refused] == [("history after_version=0", "probe")]
    assert [e["what"] for e in await wait_until(lambda: filed(missing), timeout=20)] == ["state as_of=now"]
