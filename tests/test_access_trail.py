"""Every read of a dossier is on record: who, when, what and why, queryable by operators."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from shared.access import access_stream_config
from shared.bus import checkpoint_stream_config, stream_config
from tests.support import (
    System,
    audit_event,
    call,
    fetch,
    ledger_metrics,
    new_cadre_id,
    publish,
    publish_raw,
    publish_wire,
    registered_cadre,
    wait_committed,
    wait_until,
)


async def test_reads_of_history_state_and_bundle_are_recorded(system: System) -> None:
    assert system.stack is not None
    cadre = new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    ledger = system.url("ledger")
    reader = system.stack.dev_token(["auditor"], ["431021"])
    for path in (f"/v1/cadres/{cadre}/history?purpose=巡视抽查", f"/v1/cadres/{cadre}/state?as_of=2024-01-01",
                 f"/v1/cadres/{cadre}/bundle?purpose=offline%20check"):
        assert (await call("GET", ledger + path, token=reader))[0] == 200

    async def filed() -> list[dict[str, Any]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return page["entries"] if len(page["entries"]) >= 3 else None

    entries = await wait_until(filed, timeout=20)
    assert [e["what"].split()[0] for e in entries] == ["history", "state", "bundle"]
    assert [e["purpose"] for e in entries] == ["巡视抽查", "(none given / 未说明)", "offline check"]
    assert all(e["principal"] == "dev-auditor" and e["roles"] == ["auditor"] for e in entries)
    assert "as_of=2024-01-01" in entries[1]["what"]
    ids = [row["id"] for row in await fetch(system.pg_dsn, "SELECT id FROM access_trail WHERE cadre_id = $1", cadre)]
    assert len(ids) == 3 and all(i.version == 7 for i in ids), "records get time-ordered ids (shared.ids)"

    status, problem, _ = await call("GET", f"{ledger}/v1/access", token=reader)
    assert status == 403 and problem["required_role"] == "operator", "only operators read the trail"

    # a purpose that would show operators other words than were given (a right-to-left override) is refused
    status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose=%E2%80%AEprobe", token=reader)
    assert status == 422 and [(e["field"], e["in"]) for e in problem["errors"]] == [("purpose", "query")]
    assert "不能含换行、控制字符、双向控制符或不可见字符" in problem["errors"][0]["message_zh"]
    # ... and so is one that shows nothing: it would be filed as a purpose given, none being said
    for blank in ("", "%20%20", "%E3%80%80", "%E3%85%A4"):
        status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose={blank}", token=reader)
        assert status == 422 and problem["errors"][0]["field"] == "purpose", (blank, problem)
        assert "不能全是空白" in problem["errors"][0]["message_zh"], problem


async def test_refused_and_missing_reads_are_on_record_too(system: System) -> None:
    assert system.stack is not None
    cadre = new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    ledger = system.url("ledger")
    outsider = system.stack.dev_token(["auditor"], ["430000"])
    status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose=probe", token=outsider)
    assert status == 404 and problem["cadre_id"] == cadre, "another county's cadre answers as no record"
    missing = new_cadre_id()
    assert (await call("GET", f"{ledger}/v1/cadres/{missing}/state"))[0] == 404

    async def filed(who: str) -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={who}")
        assert status == 200
        return page["entries"] or None

    refused = await wait_until(lambda: filed(cadre), timeout=20)
    assert [(e["what"], e["purpose"]) for e in refused] == [("history after_version=0", "probe")]
    assert [e["what"] for e in await wait_until(lambda: filed(missing), timeout=20)] == ["state as_of=now"]


async def test_a_message_that_is_no_access_record_is_kept_with_its_reason_and_filing_goes_on(system: System) -> None:
    nul = (b'{"principal": "p", "roles": [], "cadre_id": "c", "what": "history", "purpose": "a\\u0000b", '
           b'"request_id": "r"}')  # a record in every field, but PostgreSQL cannot store U+0000
    bogus = (b"not json", b'{"principal": "someone"}', nul)
    seqs = [await publish_raw(system.nats_url, f"access.bogus.{n}", raw) for n, raw in enumerate(bogus)]
    await publish_wire(system.nats_url, b"access.bogus.\xc3(", b"not json")  # a subject that is not UTF-8
    cadre = new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    ledger = system.url("ledger")
    assert (await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose=after-bogus"))[0] == 200

    async def filed() -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return page["entries"] or None

    assert [e["purpose"] for e in await wait_until(filed, timeout=20)] == ["after-bogus"]
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        rows = await conn.fetch("""SELECT stream_seq, subject, reason, raw FROM access_rejected
                                   WHERE stream_seq = ANY($1) ORDER BY stream_seq""", seqs)
    finally:
        await conn.close()
    assert [(r["stream_seq"], r["subject"], bytes(r["raw"])) for r in rows] == [
        (seqs[n], f"access.bogus.{n}", raw) for n, raw in enumerate(bogus)]
    assert all(r["reason"].startswith("not an access record (不是查阅记录)") for r in rows)
    assert "roles" in rows[1]["reason"], "the reason names a missing field"
    assert "U+0000" in rows[2]["reason"]
    [row] = await fetch(system.pg_dsn, "SELECT raw FROM access_rejected WHERE subject = $1", "access.bogus.\\xc3(")
    assert bytes(row["raw"]) == b"not json"

    async def counted() -> dict[str, float] | None:
        metrics = await ledger_metrics(system)
        return metrics if metrics.get("ledger_access_rejected_messages", 0) >= 3 else None

    assert (await wait_until(counted, timeout=20))["ledger_access_rejected_messages"] >= 3


async def test_reads_of_personal_data_are_on_record_in_the_ledgers_trail(system: System) -> None:
    """The rotation service serves the clear name and ID number: each read, answered or refused, is filed beside
    the ledger's reads; it may publish only such records (access.person.>), not forge the ledger's."""
    assert system.stack is not None
    cadre = new_cadre_id()
    rotation, ledger = system.url("rotation"), system.url("ledger")
    status, body, _ = await call("POST", f"{rotation}/v1/cadres/register?wait=committed", {
        "cadre_id": cadre, "county": "431021", "occurred_on": "2015-03-01", "name": "王五", "sex": "male",
        "birth_month": "1980-01", "id_number": "431021198001010016", "work_start": "2002-07-01", "unit": "审计局"})
    assert status == 202, body
    reader = system.stack.dev_token(["auditor"], ["431021"])
    outsider = system.stack.dev_token(["auditor"], ["430000"])
    status, person, _ = await call("GET", f"{rotation}/v1/cadres/{cadre}/person?purpose=干部审核", token=reader)
    assert status == 200 and person["name"] == "王五"
    status, problem, _ = await call("GET", f"{rotation}/v1/cadres/{cadre}/person", token=outsider)
    assert status == 404 and "无此干部个人信息" in problem["detail"], "another county's cadre answers as none"

    async def filed() -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return page["entries"] if len(page["entries"]) >= 2 else None

    entries = await wait_until(filed, timeout=20)
    assert [(e["what"], e["purpose"]) for e in entries] == [("person", "干部审核"), ("person", "(none given / 未说明)")]
    assert [e["principal"] for e in entries] == ["dev-auditor", "dev-auditor"]


async def test_a_county_scoped_operator_reads_only_its_countys_trail(system: System) -> None:
    assert system.stack is not None
    ours, theirs = new_cadre_id(), new_cadre_id()
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [
        audit_event(ours), audit_event(theirs, county="430000")]))[-1])
    ledger = system.url("ledger")
    for cadre in (ours, theirs):
        assert (await call("GET", f"{ledger}/v1/cadres/{cadre}/history?purpose=scope"))[0] == 200
    operator = system.stack.dev_token(["operator"], ["431021"])
    status, problem, _ = await call("GET", f"{ledger}/v1/access", token=operator)
    assert status == 403 and "须指定授权县域" in problem["detail"]
    assert (await call("GET", f"{ledger}/v1/access?county=430000", token=operator))[0] == 403

    async def filed(cadre: str) -> list[str] | None:  # as an all-county operator sees the trail
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return [e["cadre_id"] for e in page["entries"]] or None

    # Both reads filed first (the filer may take them in different batches), so that leaving theirs out is the scope's
    assert await wait_until(lambda: filed(theirs), timeout=20) == [theirs]
    assert await wait_until(lambda: filed(ours), timeout=20) == [ours]
    status, page, _ = await call("GET", f"{ledger}/v1/access?county=431021&limit=1000", token=operator)
    cadres = [e["cadre_id"] for e in page["entries"]]
    assert status == 200 and ours in cadres and theirs not in cadres


def test_the_access_trail_is_kept_in_as_many_copies_as_the_ledger_s_events() -> None:
    """CADRE_STREAM_REPLICAS applies to every stream the ledger creates: a dossier read waits for its access
    record, so an ACCESS stream on one node of three would stop the reads, and lose the trail, with that node."""
    for replicas in (1, 3):
        configs = [stream_config("CADRE", 120, replicas), checkpoint_stream_config(replicas),
                   access_stream_config(replicas)]
        assert [c.num_replicas for c in configs] == [replicas] * 3


async def test_a_record_on_another_kind_s_subject_is_rejected_not_filed(system: System) -> None:
    """The rotation service may publish only on `access.person.>`: a record it sent there as a ledger read (a
    history, a feed read) would otherwise be filed as one, forged beside the ledger's own."""
    cadre = new_cadre_id()
    forged = [{"principal": "forger", "roles": ["auditor"], "cadre_id": cadre, "what": "history after_version=0",
               "purpose": "p", "request_id": "r"},
              {"principal": "forger", "roles": ["auditor"], "what": "feed", "route": "/v1/events", "purpose": "p",
               "request_id": "r", "returned": 0}]
    seqs = [await publish_raw(system.nats_url, f"access.person.{cadre}", orjson.dumps(record)) for record in forged]
    # a genuine personal-data record of the same cadre, on its subject, is filed: the filer has passed the others
    await publish_raw(system.nats_url, f"access.person.{cadre}", orjson.dumps({
        "principal": "rotation-reader", "roles": ["auditor"], "cadre_id": cadre, "what": "person", "purpose": "p",
        "request_id": "r"}))
    ledger = system.url("ledger")

    async def filed() -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}")
        assert status == 200
        return page["entries"] or None

    assert [e["principal"] for e in await wait_until(filed, timeout=20)] == ["rotation-reader"]
    status, page, _ = await call("GET", f"{ledger}/v1/access?principal=forger")
    assert status == 200 and page["entries"] == []
    rows = await fetch(system.pg_dsn, "SELECT reason FROM access_rejected WHERE stream_seq = ANY($1)", seqs)
    assert len(rows) == 2 and all("subject" in r["reason"] and "主题" in r["reason"] for r in rows), rows


async def test_a_dossier_record_carrying_a_bulk_read_s_county_is_rejected_not_shown_to_that_county(
        system: System) -> None:
    """A bulk read's county is what a county-scoped operator's listing matches it by: a record of one cadre's read
    that carries one (sent on `access.person.>`, the only subjects the rotation service may publish on) would be
    listed to that county's operators, whatever county the cadre is of; and a count past PostgreSQL's integer
    failed the filer's whole batch, again at every redelivery, neither filed nor kept with its reason."""
    assert system.stack is not None
    cadre = await registered_cadre(system, "TRL", county="431021")
    forged = {"principal": "forger-of-county", "roles": ["auditor"], "cadre_id": cadre, "what": "person",
              "purpose": "p", "request_id": "r", "county": "430000", "returned": 1, "cadres": 1}
    seqs = [await publish_raw(system.nats_url, f"access.person.{cadre}", orjson.dumps(record))
            for record in (forged, {**forged, "county": None, "returned": 3_000_000_000})]
    # a genuine record after it: once it is filed, the filer has passed the forged one
    await publish_raw(system.nats_url, f"access.person.{cadre}", orjson.dumps({
        "principal": "rotation-reader", "roles": ["auditor"], "cadre_id": cadre, "what": "person", "purpose": "p",
        "request_id": "r"}))
    ledger = system.url("ledger")

    async def filed() -> list[dict[str, object]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?cadre_id={cadre}&principal=rotation-reader")
        assert status == 200
        return page["entries"] or None

    await wait_until(filed, timeout=20)
    other_county = system.stack.dev_token(["operator"], ["430000"])
    status, page, _ = await call("GET", f"{ledger}/v1/access?county=430000&cadre_id={cadre}", token=other_county)
    assert status == 200 and page["entries"] == [], "a 431021 cadre's read listed to a 430000 operator"
    rows = await fetch(system.pg_dsn, "SELECT reason FROM access_rejected WHERE stream_seq = ANY($1) "
                                      "ORDER BY stream_seq", seqs)
    assert [("county" in r["reason"], "returned" in r["reason"]) for r in rows] == [(True, True), (False, True)], rows
