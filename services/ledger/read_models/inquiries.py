"""Overdue written inquiries (逾期未回复的函询): DOMAIN.md rule 10, answers due within 15 working days.

The due day was counted on the working-day calendar when the inquiry was sent (`supervision.inquiry_sent`
records it under its rule set, with the years whose calendar was then still provisional, 日历暂定), from the day
the cadre received the letter when the event says (`received_on`), else from the day it was sent. An inquiry
is overdue on `as_of` when it was sent by then, its due day is past and no answer had come by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.audit_common import TAGS, ListQuery
from services.ledger.read_models.recount import recounted_deadline, working_days_now
from services.ledger.statements import Statements, day
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.events.types import ProvisionalCalendarYears
from shared.http import Api
from shared.rulesets import ruleset_or_none
from shared.settings import Settings

_SENT = """INSERT INTO rm_inquiries (cadre_id, inquiry_id, county, sent_on, due, report_id, provisional_calendar_years,
                                     received_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (cadre_id, inquiry_id) DO NOTHING"""
_ANSWERED = """UPDATE rm_inquiries SET answered_on = $3, late = $4, late_reason = $5
               WHERE cadre_id = $1 AND inquiry_id = $2"""


class InquiriesProjection:
    """`rm_inquiries`."""

    name = "inquiries"
    version = 2  # 2: the receipt (received_on), from which due_recounted counts
    tables: tuple[str, ...] = ("rm_inquiries",)
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"supervision.inquiry_sent", "supervision.inquiry_answered"})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Record inquiries sent and answered, in position order."""
        todo = Statements()
        for e in events:
            d = e.data
            if e.type == "supervision.inquiry_sent":
                todo.add(_SENT, e.cadre_id, d["inquiry_id"], e.county, e.occurred_on, day(d["due"]),
                         d.get("report_id"), d.get("provisional_calendar_years"), day(d.get("received_on")))
            elif e.type == "supervision.inquiry_answered":
                todo.add(_ANSWERED, e.cadre_id, d["inquiry_id"], e.occurred_on, d["late"], d.get("late_reason"))
        await todo.run(conn)


PROJECTIONS = [InquiriesProjection()]


class OverdueInquiry(BaseModel):
    cadre_id: str
    county: str
    inquiry_id: str
    sent_on: date
    received_on: date | None = Field(description="Day the cadre received the letter (收到函件之日), from which the "
                                                 "answer window counts; null when not recorded: it counts from "
                                                 "sent_on.")
    due: date = Field(description="Last day for the answer (回复截止日).")
    provisional_calendar_years: ProvisionalCalendarYears = None
    due_recounted: date | None = Field(
        description="When the due day touched a provisional calendar year: the due day counted again on the "
                    "calendar as it is now, from received_on (else sent_on) with the rule set's working days "
                    "(回复期限复核); it differs from `due` once that year's holiday notice moved a day. null "
                    "otherwise, or beyond the calendar.")
    report_id: str | None
    days_overdue: int = Field(description="Calendar days past the due day on as_of (逾期天数).")
    working_days_overdue: int | None = Field(description="Working days past the due day (逾期工作日); null when "
                                                         "the calendar does not cover the span.")


class OverdueInquiriesPage(BaseModel):
    as_of: date
    total: int
    inquiries: list[OverdueInquiry]
    next_offset: int | None


_WHERE = """sent_on <= $1 AND due < $1 AND (answered_on IS NULL OR answered_on > $1)
            AND ($2::text IS NULL OR county = $2) AND ($3::text IS NULL OR cadre_id = $3)"""


def _answer_days(county: str, sent_on: date) -> int | None:
    rules = ruleset_or_none(county, sent_on)
    return None if rules is None else rules.audit.inquiry_answer_working_days


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/inquiries/overdue`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/inquiries/overdue", summary="Overdue written inquiries (逾期未回复的函询)",
               query=ListQuery, response=OverdueInquiriesPage, tags=TAGS, recorded="list")
    async def overdue(request: web.Request, *, query: ListQuery) -> dict[str, Any]:
        """Inquiries past their due day and unanswered on `as_of`, the longest overdue first."""
        as_of = query.as_of or clock.today()
        args = (as_of, query.county, query.cadre_id)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = int(await conn.fetchval(f"SELECT count(*) FROM rm_inquiries WHERE {_WHERE}", *args))
            rows = await conn.fetch(f"""SELECT cadre_id, county, inquiry_id, sent_on, received_on, due, report_id,
                                              provisional_calendar_years FROM rm_inquiries
                                       WHERE {_WHERE} ORDER BY due, cadre_id, inquiry_id OFFSET $4 LIMIT $5""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        inquiries = [{**dict(r), "days_overdue": (as_of - r["due"]).days,
                      "working_days_overdue": working_days_now(r["due"] + timedelta(days=1), as_of),
                      "due_recounted": recounted_deadline(r["received_on"] or r["sent_on"],
                                                          _answer_days(r["county"], r["sent_on"]),
                                                          r["provisional_calendar_years"])} for r in rows]
        more = query.offset + len(rows) < total
        return {"as_of": as_of, "total": total, "inquiries": inquiries,
                "next_offset": query.offset + len(rows) if more else None}
