"""Helpers for the assessment service's tests through HTTP, NATS and the ledger (the assessment slice tests and
others that drive a selection): a command that must be committed or refused naming its rule, a selection's
inspection, vote and notice, a ledger read model polled until ready, and projections rebuilt from position 0."""

from __future__ import annotations

from typing import Any

from services.ledger.projections import Projection
from tests.support import System, call, rebuilt, wait_until

COUNTY = "431021"


async def post(system: System, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A command that must be accepted and committed."""
    status, answer, _ = await call("POST", f"{system.url(service)}{path}?wait=committed", body)
    assert status == 202, answer
    assert answer["committed"] is True, answer
    return dict(answer)


async def refused(system: System, service: str, path: str, body: dict[str, Any], rule: str) -> dict[str, Any]:
    """A command that must be refused with a 422 naming `rule`."""
    status, problem, headers = await call("POST", f"{system.url(service)}{path}", body)
    assert status == 422, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["rule"] == rule, problem
    return dict(problem)


def base(cadre: str, on: str) -> dict[str, Any]:
    return {"cadre_id": cadre, "county": COUNTY, "occurred_on": on}


CHECKS = {"dossier_checked": True, "personal_matters_checked": True, "discipline_opinion_obtained": True,
          "petitions_checked": True}


async def select(system: System, cadre: str, sid: str, inspected: str, voted: str,
                 post_name: str = "某镇党委书记") -> None:
    """Inspection and an approved vote (9 of 11 entitled)."""
    await post(system, "assessment", f"/v1/selections/{sid}/inspection",
               {**base(cadre, inspected), "proposed_post": post_name, **CHECKS})
    await post(system, "assessment", f"/v1/selections/{sid}/vote",
               {**base(cadre, voted), "members_entitled": 11, "members_present": 10, "votes_for": 9,
                "votes_against": 1})


async def notice(system: System, cadre: str, sid: str, nid: str, start: str, end: str) -> None:
    await post(system, "assessment", f"/v1/selections/{sid}/notice",
               {**base(cadre, start), "notice_id": nid, "start": start, "end": end,
                "channels": ["县委组织部网站", "桂阳县电视台"]})


async def ledger_get(system: System, path: str) -> Any:
    status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
    assert status == 200, body
    return body


async def projected(system: System, path: str, key: str, ready: Any) -> Any:
    """Poll a read model until `ready(first entry)` holds (projections run behind the ledger)."""
    async def entry() -> Any:
        page = await ledger_get(system, path)
        return page[key][0] if page[key] and ready(page[key][0]) else None

    return await wait_until(entry)


async def _rebuilt_equal(system: System, projections: list[Projection]) -> None:
    """Each projection, rebuilt from position 0, gives the tables it had (once caught up)."""
    for projection in projections:
        before, after, replayed = await rebuilt(system, projection)
        assert replayed > 0
        for table in projection.tables:
            assert after[table] == before[table], table
