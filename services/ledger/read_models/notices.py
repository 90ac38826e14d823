"""Open notices (未结束的任前公示) with their objections and the working days left.

A notice is `open` from its posting until it is closed; `deferred` once closed as 缓任 until it is
closed again (the deferral must then be resolved: `deferral_overdue` from the day after its last day,
`until`, which the deferral still covers: shared.appointment_blockers.deferral_runs); `closed`
or `cancelled` (取消任职资格) when over. Its objections are the ones recorded against it and every
report (举报) received about the cadre while it was open; each shows whether the audit service has
verified it (unresolved objections stop a `clear` close). Working days are counted on the shipped
calendar (shared.workdays) on `as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.assessment_common import TAGS, AssessmentQuery, working_days_left
from services.ledger.read_models.recount import recounted_working_days
from services.ledger.statements import Statements, bulk, day
from shared.access import answered_rows
from shared.appointment_blockers import deferral_runs
from shared.clock import clock_from
from shared.db import acquire
from shared.events.types import ProvisionalCalendarYears
from shared.http import Api
from shared.settings import Settings

# Every statement reads and writes only the rows of its first column's cadre, so each run of them goes as one
# statement over all its rows (services.ledger.statements). Provisional years travel space-separated, as a
# bulk column is a scalar.
_POSTED = bulk("""cadre_id text, notice_id text, county text, selection_id text, proposed_post text, posted_on date,
                  start_on date, end_on date, working_days integer, channels text, last_position bigint,
                  provisional text""", """
  INSERT INTO rm_notices (cadre_id, notice_id, county, selection_id, proposed_post, posted_on, start_on, end_on,
                          working_days, channels, status, last_position, provisional_calendar_years)
  SELECT cadre_id, notice_id, county, selection_id, proposed_post, posted_on, start_on, end_on, working_days,
         channels::jsonb, 'open', last_position, string_to_array(provisional, ' ')::integer[] FROM {rows}
  ON CONFLICT (cadre_id, notice_id) DO NOTHING""")
_OBJECTION = bulk("""cadre_id text, notice_id text, report_id text, county text, channel text, named boolean,
                     received_on date""", """
  INSERT INTO rm_notice_objections (cadre_id, notice_id, report_id, county, channel, named, received_on, recorded_as)
  SELECT *, 'objection' FROM {rows}
  ON CONFLICT (cadre_id, notice_id, report_id) DO UPDATE SET channel = EXCLUDED.channel, named = EXCLUDED.named,
    recorded_as = 'objection'""")
_CLOSED = bulk("cadre_id text, notice_id text, outcome text, closed_on date, last_position bigint", """
  UPDATE rm_notices n SET status = CASE WHEN v.outcome = 'deferred' THEN 'deferred' ELSE 'closed' END,
    outcome = v.outcome, closed_on = v.closed_on, last_position = v.last_position
  FROM {rows} WHERE n.cadre_id = v.cadre_id AND n.notice_id = v.notice_id""")
_DEFERRED = bulk("cadre_id text, notice_id text, deferred_on date, deferred_until date, last_position bigint", """
  UPDATE rm_notices n SET deferred_on = v.deferred_on, deferred_until = v.deferred_until,
    last_position = v.last_position
  FROM {rows} WHERE n.cadre_id = v.cadre_id AND n.notice_id = v.notice_id""")
_CANCELLED = bulk("cadre_id text, notice_id text, cancelled_on date, cancel_reason text, last_position bigint", """
  UPDATE rm_notices n SET status = 'cancelled', cancelled_on = v.cancelled_on, cancel_reason = v.cancel_reason,
    last_position = v.last_position
  FROM {rows} WHERE n.cadre_id = v.cadre_id AND n.notice_id = v.notice_id""")
# a report received while a notice of the cadre is open is an objection to it, whichever service records it
_REPORT = bulk("cadre_id text, report_id text, received_on date, channel text, named boolean", """
  WITH r AS (
    INSERT INTO rm_assessment_reports (cadre_id, report_id, received_on, channel, named) SELECT * FROM {rows}
    ON CONFLICT (cadre_id, report_id) DO UPDATE SET received_on = EXCLUDED.received_on, channel = EXCLUDED.channel,
      named = EXCLUDED.named)
  INSERT INTO rm_notice_objections (cadre_id, notice_id, report_id, county, channel, named, received_on, recorded_as)
  SELECT v.cadre_id, n.notice_id, v.report_id, n.county, v.channel, v.named, v.received_on, 'report'
  FROM {rows} JOIN rm_notices n ON n.cadre_id = v.cadre_id
  WHERE n.status IN ('open', 'deferred') AND n.start_on <= v.received_on
  ON CONFLICT (cadre_id, notice_id, report_id) DO NOTHING""")
_VERIFIED = bulk("cadre_id text, report_id text, verified_on date, outcome text", """
  INSERT INTO rm_assessment_reports (cadre_id, report_id, verified_on, outcome) SELECT * FROM {rows}
  ON CONFLICT (cadre_id, report_id) DO UPDATE SET verified_on = EXCLUDED.verified_on, outcome = EXCLUDED.outcome""")


class NoticesProjection:
    """`rm_notices`, `rm_notice_objections` and the reports they refer to."""

    name = "notices"
    version = 1
    tables: tuple[str, ...] = ("rm_notice_objections", "rm_notices", "rm_assessment_reports")
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"notice.posted", "notice.objection_received", "notice.closed", "appointment.deferred",
                       "appointment.qualification_cancelled", "report.received", "report.verified"})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Apply the batch's notice and report events with the effect of position order.

        Every statement keeps to its cadre's rows (a report reads the cadre's open notices).
        """
        todo = Statements()
        for e in events:
            d = e.data
            key = (e.cadre_id, d.get("notice_id"))
            if e.type == "notice.posted":
                years = d.get("provisional_calendar_years")
                todo.add(_POSTED, *key, e.county, d["selection_id"], d["proposed_post"], e.occurred_on,
                         day(d["start"]), day(d["end"]), d["working_days"], orjson.dumps(d["channels"]).decode(),
                         e.position, None if years is None else " ".join(str(int(y)) for y in years))
            elif e.type == "notice.objection_received":
                todo.add(_OBJECTION, *key, d["report_id"], e.county, d["channel"], d["named"], e.occurred_on)
            elif e.type == "notice.closed":
                todo.add(_CLOSED, *key, d["outcome"], e.occurred_on, e.position)
            elif e.type == "appointment.deferred":
                todo.add(_DEFERRED, *key, e.occurred_on, day(d["until"]), e.position)
            elif e.type == "appointment.qualification_cancelled":
                todo.add(_CANCELLED, *key, e.occurred_on, d["reason"], e.position)
            elif e.type == "report.received":
                todo.add(_REPORT, e.cadre_id, d["report_id"], e.occurred_on, d.get("channel"), d.get("named"))
            elif e.type == "report.verified":
                todo.add(_VERIFIED, e.cadre_id, d["report_id"], e.occurred_on, d["outcome"])
        await todo.run(conn)


PROJECTIONS = [NoticesProjection()]

Status = Literal["open", "deferred", "closed", "cancelled"]
STATUS_ZH = {"open": "公示中", "deferred": "缓任", "closed": "已结束", "cancelled": "取消任职资格"}


class NoticeFilter(AssessmentQuery):
    status: Literal["unresolved", "open", "deferred", "closed", "cancelled", "all"] = Field(
        "unresolved", description="unresolved (default: open and deferred), open 公示中, deferred 缓任, "
                                  "closed 已结束, cancelled 取消任职资格, all.")
    as_of: date | None = Field(None, description="The day the list is for, as it stood then: the notices posted by "
                                                "then, their status, objections and verifications of that day, and "
                                                "the working days left counted from it (default: today).")


class Objection(BaseModel):
    report_id: str
    channel: str | None
    named: bool | None
    received_on: date
    recorded_as: Literal["objection", "report"] = Field(
        description="objection: recorded against the notice; report: a report received while it was open.")
    verified_on: date | None
    verification: str | None = Field(description="unfounded 不属实, partly 部分属实, verified 属实; null: not yet.")
    resolved: bool = Field(description="Verified on or before `as_of` (核查完毕).")


class NoticeEntry(BaseModel):
    cadre_id: str
    county: str
    notice_id: str
    selection_id: str
    proposed_post: str
    posted_on: date
    start: date
    end: date
    working_days: int
    provisional_calendar_years: ProvisionalCalendarYears = None
    working_days_recounted: int | None = Field(
        description="When the count touched a provisional calendar year: the working days of [start, end] counted "
                    "again on the calendar as it is now (公示期工作日复核), which differs from `working_days` once "
                    "that year's holiday notice moved a day; null otherwise, or when the calendar does not cover them.")
    channels: list[str]
    status: Status
    status_zh: str
    outcome: str | None
    closed_on: date | None
    working_days_left: int | None = Field(description="Working days from `as_of` (counted) to the end; 0 when over, "
                                                      "null when the calendar does not cover the period.")
    period_over: bool = Field(description="`as_of` is after the last day, so the period, which counts that day, has "
                                          "run: the notice may close (公示期满).")
    deferred_until: date | None
    deferral_overdue: bool = Field(description="Deferred and the deferral has run out (`as_of` after its last day, "
                                              "`deferred_until`): to be resolved (缓任期满).")
    cancelled_on: date | None
    objections: list[Objection]
    unresolved_objections: int


class NoticePage(BaseModel):
    as_of: date
    total: int
    notices: list[NoticeEntry]


_STATUS_SQL = {"unresolved": ("open", "deferred"), "all": ("open", "deferred", "closed", "cancelled")}
def notices_on(day: str) -> str:
    """SQL of the notices posted by `day` (a parameter, e.g. "$4") as they stood that day.

    A notice holds its latest status only, so its status on the day (`status_then`) is told from the days of its
    steps: cancelled, closed (its last close, when not a deferral), deferred (a deferral decided, or a close as
    缓任), else open; each step's fields show only once it had happened (`<field>_known`).
    """
    return f"""
  SELECT n.*, CASE WHEN n.cancelled_on <= {day} THEN 'cancelled'
                   WHEN n.status = 'closed' AND n.closed_on <= {day} THEN 'closed'
                   WHEN n.deferred_on <= {day} OR (n.status = 'deferred' AND n.closed_on <= {day}) THEN 'deferred'
                   ELSE 'open' END AS status_then,
         n.closed_on <= {day} AS outcome_known, n.closed_on <= {day} AS closed_on_known,
         n.deferred_on <= {day} AS deferred_until_known, n.cancelled_on <= {day} AS cancelled_on_known
  FROM rm_notices n WHERE n.posted_on <= {day}"""


_AS_OF = notices_on("$4")


def _entry(row: asyncpg.Record, as_of: date) -> dict[str, Any]:
    objections = []
    for o in orjson.loads(row["objections"]):
        verified_on = day(o["verified_on"])
        if verified_on is not None and verified_on > as_of:  # not known on as_of
            verified_on, o["verification"] = None, None
        objections.append({**o, "received_on": day(o["received_on"]), "verified_on": verified_on,
                           "resolved": verified_on is not None})
    left = working_days_left(row["start_on"], row["end_on"], as_of)
    until = row["deferred_until"]
    return {
        **{k: row[k] for k in ("cadre_id", "county", "notice_id", "selection_id", "proposed_post", "posted_on",
                               "working_days", "provisional_calendar_years")},
        "status": row["status_then"],
        **{k: row[k] if row[k] is not None and row[f"{k}_known"] else None
           for k in ("outcome", "closed_on", "deferred_until", "cancelled_on")},
        "start": row["start_on"], "end": row["end_on"], "channels": orjson.loads(row["channels"]),
        "working_days_recounted": recounted_working_days(row["start_on"], row["end_on"],
                                                         row["provisional_calendar_years"]),
        "status_zh": STATUS_ZH[row["status_then"]], "working_days_left": left, "period_over": as_of > row["end_on"],
        "deferral_overdue": row["status_then"] == "deferred" and until is not None and not deferral_runs(until, as_of),
        "objections": objections, "unresolved_objections": sum(not o["resolved"] for o in objections)}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/notices`: notices with objections and days left."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/notices", summary="Notices and their objections (任前公示与反映)", query=NoticeFilter,
               response=NoticePage, tags=TAGS, recorded="list")
    async def notices(request: web.Request, *, query: NoticeFilter) -> dict[str, Any]:
        """Notices not yet resolved (default) or by status, ending soonest first, with objections and days left."""
        as_of = query.as_of or clock.today()
        statuses = list(_STATUS_SQL.get(query.status, (query.status,)))
        where = """n.status_then = ANY($1::text[]) AND ($2::text IS NULL OR n.county = $2)
                   AND ($3::text IS NULL OR n.cadre_id = $3)"""
        args = [statuses, query.county, query.cadre_id, as_of]
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM ({_AS_OF}) n WHERE {where}", *args)
            rows = await conn.fetch(
                f"""SELECT n.*, coalesce((
                      SELECT jsonb_agg(jsonb_build_object(
                               'report_id', o.report_id, 'channel', o.channel, 'named', o.named,
                               'received_on', o.received_on, 'recorded_as', o.recorded_as,
                               'verified_on', r.verified_on, 'verification', r.outcome)
                             ORDER BY o.received_on, o.report_id)
                      FROM rm_notice_objections o
                      LEFT JOIN rm_assessment_reports r ON r.cadre_id = o.cadre_id AND r.report_id = o.report_id
                      WHERE o.cadre_id = n.cadre_id AND o.notice_id = n.notice_id AND o.received_on <= $4),
                      '[]'::jsonb)::text AS objections
                    FROM ({_AS_OF}) n WHERE {where}
                    ORDER BY n.end_on, n.cadre_id, n.notice_id OFFSET $5 LIMIT $6""",
                *args, query.offset, query.limit)
        answered_rows(request, rows)
        return {"as_of": as_of, "total": total, "notices": [_entry(r, as_of) for r in rows]}
