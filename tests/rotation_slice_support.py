"""Helpers for the rotation service's tests through HTTP, NATS and the ledger (tests/test_rotation_*_slice.py):
the bodies of a registration and of a township posting, a command that must be accepted, and a ledger read model
polled until it shows what a test waits for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support import System, call, wait_until

COUNTY = "431021"
ID_NUMBER = "431021198503150027"  # valid check digit; born 1985-03; female


def registration(cadre: str, **overrides: Any) -> dict[str, Any]:
    body = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2030-01-02", "name": "李桂芳", "sex": "female",
            "birth_month": "1985-03", "id_number": ID_NUMBER, "work_start": "2007-07-01",
            "unit": "桂阳县樟市镇人民政府"}
    body.update(overrides)
    return body


def township_post(cadre: str, on: str, township: str = "樟市镇", **overrides: Any) -> dict[str, Any]:
    body = {"cadre_id": cadre, "county": COUNTY, "occurred_on": on, "post": "镇政府科员", "unit": f"{township}人民政府",
            "township": township, "level": "clerk", "leadership": False, "kind": "lateral"}
    body.update(overrides)
    return body


async def post_ok(url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer, _ = await call("POST", url, body)
    assert status == 202, answer
    return dict(answer)


async def projected(system: System, path: str, key: str, predicate: Callable[[list[dict[str, Any]]], bool]
                    ) -> list[dict[str, Any]]:
    """Poll a ledger read model until its `key` list satisfies `predicate`; returns the list."""
    seen: list[dict[str, Any]] = []

    async def check() -> bool:
        nonlocal seen
        status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
        assert status == 200, body
        seen = body[key]
        return predicate(seen)

    await wait_until(check, timeout=15)
    return seen
