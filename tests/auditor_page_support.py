"""Helpers for the auditor page's browser tests (tests/test_auditor_page*.py): a cadre's audit recorded through
NATS, its bundle once a checkpoint covers it, and the page opened in a fresh browser context."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.async_api import Browser, Page

import tests.support as support
from shared.envelope import new_event
from shared.events.audit import AuditCompleted, AuditOpinionRequested, AuditStarted, Finding
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until


async def record_audit(system: System, cadre: str) -> None:
    """Three audit events with known dates, published as the audit service publishes them."""
    audit = "SJ-PW-1"
    common: dict[str, Any] = {"cadre_id": cadre, "county": "431021", "service": "audit", "ruleset": "431021@2008.1"}
    events = [
        new_event(event_type="audit.started", occurred_on=date(2023, 3, 1), **common, data=AuditStarted(
            audit_id=audit, audit_type="departure", period_from=date(2020, 1, 1), period_to=date(2022, 12, 31),
            auditing_body="桂阳县审计局", post_id="P-1")),
        new_event(event_type="audit.opinion_requested", occurred_on=date(2023, 5, 10), **common,
                  data=AuditOpinionRequested(audit_id=audit, due=date(2023, 5, 24))),
        new_event(event_type="audit.completed", occurred_on=date(2023, 6, 30), **common, data=AuditCompleted(
            audit_id=audit, audit_type="departure", report_number="桂审经责〔2023〕9号", evaluation="good",
            findings=[Finding(finding_id="F1", category=3, amount="1200.00", responsibility="direct")])),
    ]
    seqs = await publish(system.nats_url, events)
    await wait_committed(system.pg_dsn, max(seqs))


async def recorded_bundle(system: System, prefix: str) -> tuple[str, dict[str, Any]]:
    """A cadre with `record_audit`'s three events, and its bundle once a checkpoint covers all three."""
    cadre = new_cadre_id(prefix)
    await record_audit(system, cadre)

    async def covered() -> dict[str, Any] | None:
        status, bundle, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/bundle",
                                       token=support.DEFAULT_TOKEN)
        return bundle if status == 200 and len(bundle["events"]) == 3 else None

    return cadre, await wait_until(covered)


async def open_page(browser: Browser, url: str, outside: list[str]) -> Page:
    """The page at `url` in a fresh context (no saved token or keys); a request to another origin is added to
    `outside`, for the test to assert there is none."""
    context = await browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    origin = url.split("/", 3)[:3]
    page.on("request", lambda r: None if r.url.split("/", 3)[:3] == origin or r.url.startswith(("blob:", "data:"))
            else outside.append(r.url))
    await page.goto(url)
    return page
