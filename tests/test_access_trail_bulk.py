"""Reads of many cadres at once (the event feed, the lists that name cadres) are on record too: one access-trail
entry per request, naming who, when, the route, the county and filters, and how much it answered."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.auth import Role, ensure_token_keys, issue_token, load_private_key
from tests.support import System, audit_event, call, cli, publish, wait_committed, wait_until


def _reader(system: System, roles: list[Role], counties: list[str]) -> tuple[str, str]:
    """A token of a subject no other test uses, so that its trail entries are this test's alone."""
    assert system.stack is not None
    subject = f"trail-{uuid.uuid4().hex[:10]}"
    key = load_private_key(ensure_token_keys(system.stack.keys)[0])
    return subject, issue_token(key, subject, roles, counties, 600)


async def _entries(system: System, principal: str, count: int, query: str = "") -> list[dict[str, Any]]:
    """The trail's entries by `principal` once `count` of them are filed."""
    ledger = system.url("ledger")

    async def filed() -> list[dict[str, Any]] | None:
        status, page, _ = await call("GET", f"{ledger}/v1/access?principal={principal}&limit=1000{query}")
        assert status == 200, page
        return page["entries"] if len(page["entries"]) >= count else None

    return await wait_until(filed, timeout=20)


async def test_a_feed_read_and_a_list_read_each_leave_one_entry(system: System) -> None:
    first, second = f"TB{uuid.uuid4().hex[:10]}", f"TB{uuid.uuid4().hex[:10]}"
    ledger = system.url("ledger")
    status, tip, _ = await call("GET", f"{ledger}/v1/tip")
    assert status == 200
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [
        audit_event(first, 1), audit_event(second, 1), audit_event(first, 2)]))[-1])
    who, token = _reader(system, ["auditor"], ["431021"])

    async def projected() -> bool:  # the directory is a read model: wait for it with another token
        status, page, _ = await call("GET", f"{ledger}/v1/cadres?county=431021&prefix={first}")
        return status == 200 and bool(page["cadres"])

    await wait_until(projected, timeout=20)
    # refused before it reads anything (a limit out of range): not on record, as a dossier read's 422 is not
    status, problem, _ = await call("GET", f"{ledger}/v1/events?county=431021&limit=0", token=token)
    assert status == 422 and problem["errors"][0]["field"] == "limit"
    after = tip["position"]
    status, feed, _ = await call("GET", f"{ledger}/v1/events?county=431021&after={after}&limit=2", token=token)
    assert status == 200 and len(feed["events"]) == 2 and feed["next_after"] is not None
    status, found, _ = await call("GET", f"{ledger}/v1/cadres?county=431021&prefix={first}", token=token)
    assert status == 200 and [c["cadre_id"] for c in found["cadres"]] == [first]

    entries = await _entries(system, who, 2)
    assert len(entries) == 2, "one entry per request, not one per cadre or event"
    read, listed = entries
    positions = [e["position"] for e in feed["events"]]
    assert {k: read[k] for k in ("principal", "roles", "cadre_id", "what", "route", "county", "filters",
                                 "returned", "cadres", "first_position", "last_position")} == {
        "principal": who, "roles": ["auditor"], "cadre_id": None, "what": "feed", "route": "/v1/events",
        "county": "431021", "filters": {"after": after, "limit": 2}, "returned": 2,
        "cadres": len({e["cadre_id"] for e in feed["events"]}), "first_position": positions[0],
        "last_position": positions[-1]}
    assert read["at"] and read["request_id"]
    assert {k: listed[k] for k in ("what", "route", "county", "filters", "returned", "cadres", "first_position")} \
        == {"what": "list", "route": "/v1/cadres", "county": "431021", "filters": {"prefix": first},
            "returned": 1, "cadres": 1, "first_position": None}

    # the auditors' filters: bulk reads only, one route, one county (per-cadre reads keep cadre_id)
    bulk = await _entries(system, who, 1, "&kind=bulk&route=/v1/events&county=431021")
    assert [e["route"] for e in bulk] == ["/v1/events"]
    status, page, _ = await call("GET", f"{ledger}/v1/access?principal={who}&kind=cadre")
    assert status == 200 and page["entries"] == []


async def test_a_read_refused_for_its_county_is_on_record_with_nothing_answered(system: System) -> None:
    assert system.stack is not None
    ledger = system.url("ledger")
    who, token = _reader(system, ["auditor"], ["431021"])
    status, problem, _ = await call("GET", f"{ledger}/v1/events?county=430000", token=token)
    assert status == 403 and problem["counties"] == ["430000"]
    status, problem, _ = await call("GET", f"{ledger}/v1/rotation/due", token=token)
    assert status == 403 and "须指定授权县域" in problem["detail"]

    entries = await _entries(system, who, 2)
    assert [(e["route"], e["county"], e["returned"], e["cadres"]) for e in entries] == [
        ("/v1/events", "430000", None, None), ("/v1/rotation/due", None, None, None)]
    # a county-scoped operator finds the read aimed at its county, and not the one that named none
    operator = system.stack.dev_token(["operator"], ["430000"])
    status, page, _ = await call("GET", f"{ledger}/v1/access?county=430000&principal={who}", token=operator)
    assert status == 200 and [e["route"] for e in page["entries"]] == ["/v1/events"]


async def _operations(system: System) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The ledger's GET operations by path, and the schemas they refer to, from its OpenAPI document."""
    status, document, _ = await call("GET", f"{system.url('ledger')}/openapi.json")
    assert status == 200
    gets = {path: ops["get"] for path, ops in document["paths"].items() if "get" in ops}
    return gets, document["components"]["schemas"]


async def test_every_list_that_names_cadres_is_on_record_with_what_it_answered(system: System) -> None:
    """Each route the ledger declares recorded answers and files its row count (a handler that forgot to count
    would file null)."""
    ledger = system.url("ledger")
    who, token = _reader(system, ["auditor"], ["431021"])
    recorded = [path for path, op in (await _operations(system))[0].items() if op.get("x-access-trail")]
    answered = []
    for path in recorded:
        status, page, _ = await call("GET", f"{ledger}{path}?county=431021", token=token)
        assert status == 200, (path, page)
        rows = next(v for v in page.values() if isinstance(v, list))
        answered.append((path, len(rows)))
    entries = await _entries(system, who, len(recorded))
    assert [(e["route"], e["returned"]) for e in entries] == answered
    assert all(e["cadres"] is not None and e["cadres"] <= e["returned"] for e in entries)


NOT_RECORDED = {"/v1/access": "the trail itself, operators only",
                "/v1/quarantine": "messages that are not on the ledger, operators only"}


async def test_every_read_that_lists_cadres_is_declared_recorded(system: System) -> None:
    """The policy of docs/architecture.md as a check on the contract: a GET whose answer lists rows naming cadres is
    a dossier read (recorded in its handler, `{cadre_id}` in its path), a recorded bulk read (`x-access-trail`),
    or one of the documented exceptions; a list added later that names cadres fails here until it is declared."""
    operations, schemas = await _operations(system)

    def names_cadres(op: dict[str, Any]) -> bool:
        ref = op["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if ref is None:
            return False
        for prop in schemas[ref.rsplit("/", 1)[1]].get("properties", {}).values():
            row = prop.get("items", {}).get("$ref") if prop.get("type") == "array" else None
            if row and "cadre_id" in schemas[row.rsplit("/", 1)[1]].get("properties", {}):
                return True
        return False

    undeclared = [path for path, op in operations.items() if names_cadres(op) and not op.get("x-access-trail")
                  and "{cadre_id}" not in path and path not in NOT_RECORDED]
    assert undeclared == []
    recorded = {path for path, op in operations.items() if op.get("x-access-trail")}
    assert {"/v1/events", "/v1/cadres", "/v1/rotation/due"} <= recorded and not recorded & set(NOT_RECORDED)
    assert operations["/v1/events"]["x-access-trail"] == "feed"
    assert "查阅记录" in operations["/v1/rotation/due"]["description"]


async def test_the_cli_lists_bulk_reads_with_their_filters(system: System) -> None:
    ledger = system.url("ledger")
    who, token = _reader(system, ["auditor"], ["431021"])
    assert (await call("GET", f"{ledger}/v1/notices?county=431021&status=all", token=token))[0] == 200
    await _entries(system, who, 1)
    assert system.stack is not None
    result = await cli("access", "--url", ledger, "--token", system.stack.dev_token(["operator"]),
                       "--principal", who, "--kind", "bulk", "--route", "/v1/notices")
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    entry = json.loads(line)
    assert (entry["route"], entry["county"], entry["filters"]) == ("/v1/notices", "431021", {"status": "all"})


async def test_a_countys_listing_is_its_bulk_reads_and_its_cadres_reads_in_order_page_by_page(system: System) -> None:
    """A county's entries are found by two indexes, one per kind, and merged: in the order recorded, page after page,
    a cadre who moved between counties listed under both, and either kind alone when asked."""
    ours, moved, theirs = (f"TM{uuid.uuid4().hex[:10]}" for _ in range(3))
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [
        audit_event(ours, 1), audit_event(moved, 1, county="430000"), audit_event(moved, 2),
        audit_event(theirs, 1, county="430000")]))[-1])
    ledger = system.url("ledger")
    who, token = _reader(system, ["auditor"], ["431021", "430000"])
    for path in (f"/v1/cadres/{ours}/history", "/v1/events?county=431021&limit=1", f"/v1/cadres/{moved}/history",
                 f"/v1/cadres/{theirs}/history", "/v1/events?county=430000&limit=1", f"/v1/cadres/{ours}/state"):
        assert (await call("GET", f"{ledger}{path}", token=token))[0] == 200, path
    everything = await _entries(system, who, 6)

    async def listed(query: str) -> list[int]:
        seqs: list[int] = []
        after = 0
        while True:
            status, page, _ = await call("GET", f"{ledger}/v1/access?principal={who}&limit=1&after={after}{query}")
            assert status == 200, page
            seqs += [e["stream_seq"] for e in page["entries"]]
            if page["next_after"] is None:
                return seqs
            after = page["next_after"]

    def seqs(*which: tuple[str | None, str | None]) -> list[int]:
        return [e["stream_seq"] for e in everything if (e["cadre_id"], e["county"]) in which]

    ours_read, moved_read, theirs_read = (ours, None), (moved, None), (theirs, None)
    assert await listed("&county=431021") == seqs(ours_read, (None, "431021"), moved_read)
    assert await listed("&county=430000") == seqs(moved_read, theirs_read, (None, "430000"))
    assert await listed("&county=431021&kind=bulk") == seqs((None, "431021"))
    assert await listed("&county=430000&kind=cadre") == seqs(moved_read, theirs_read)
    assert len(seqs(ours_read)) == 2 and len(everything) == 6
