"""Appointment compliance (选拔任用程序合规): each selection's steps, dates, vote tally and notice, checked again.

One row per selection (`selection.inspected`), followed through `appointment.voted`, `notice.posted`,
objections, `appointment.deferred`, `notice.closed` (a deferred close, then the final one),
`appointment.qualification_cancelled` and the `post.assigned` that names the notice. The auditor's
view re-checks the order and the thresholds from the events alone, under the rule set in force on
each step's day, so an appointment recorded by any producer shows its issues (DOMAIN.md rules 1, 2).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.assessment_common import TAGS, AssessmentQuery
from services.ledger.read_models.recount import recounted_working_days
from services.ledger.statements import Statements, bulk, day, execute_bulk
from shared.access import answered_rows
from shared.appointment_blockers import names_post
from shared.db import acquire
from shared.events.assessment import CLEARING
from shared.events.types import ProvisionalCalendarYears
from shared.http import Api
from shared.rulesets import ruleset_or_none
from shared.settings import Settings
from shared.tenure import deferral_latest

# every statement reads and writes only its first column's cadre's rows: each run goes as one statement
_SELECTION = "cadre_id text, selection_id text"
_NOTICE = "cadre_id text, notice_id text"
_INSPECTED = bulk(f"""{_SELECTION}, county text, proposed_post text, promotion boolean, inspected_on date, checks text,
                      last_position bigint""", """
  INSERT INTO rm_appointments (cadre_id, selection_id, county, proposed_post, promotion, inspected_on, checks,
                               last_position)
  SELECT cadre_id, selection_id, county, proposed_post, promotion, inspected_on, checks::jsonb, last_position
  FROM {rows} ON CONFLICT (cadre_id, selection_id) DO NOTHING""")
_VOTED = bulk(f"""{_SELECTION}, voted_on date, members_entitled integer, members_present integer, votes_for integer,
                 votes_against integer, votes_deferred integer, vote_outcome text, last_position bigint""", """
  UPDATE rm_appointments a SET voted_on = v.voted_on, members_entitled = v.members_entitled,
    members_present = v.members_present, votes_for = v.votes_for, votes_against = v.votes_against,
    votes_deferred = v.votes_deferred, vote_outcome = v.vote_outcome, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.selection_id = v.selection_id""")
_POSTED = bulk(f"""{_SELECTION}, notice_id text, posted_on date, notice_start date, notice_end date,
                  working_days integer, provisional jsonb, last_position bigint""", """
  UPDATE rm_appointments a SET notice_id = v.notice_id, notice_posted_on = v.posted_on, notice_start = v.notice_start,
    notice_end = v.notice_end, notice_working_days = v.working_days,
    notice_provisional_years = (SELECT array_agg(y::integer) FROM jsonb_array_elements_text(v.provisional) AS y),
    last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.selection_id = v.selection_id""")
_OBJECTION = bulk(f"{_NOTICE}, last_position bigint", """
  UPDATE rm_appointments a SET objections = a.objections + 1, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id""")
_DEFERRED = bulk(f"{_NOTICE}, deferred_on date, deferred_until date, last_position bigint", """
  UPDATE rm_appointments a SET deferred_on = v.deferred_on, deferred_until = v.deferred_until,
    last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id""")
_CLOSED_DEFERRED = bulk(f"{_NOTICE}, closed_on date, last_position bigint", """
  UPDATE rm_appointments a SET closed_deferred_on = v.closed_on, outcome = 'deferred', last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id""")
_CLOSED = bulk(f"{_NOTICE}, closed_on date, outcome text, last_position bigint", """
  UPDATE rm_appointments a SET closed_on = v.closed_on, outcome = v.outcome, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id""")
_CANCELLED = bulk(f"{_NOTICE}, cancelled_on date, last_position bigint", """
  UPDATE rm_appointments a SET cancelled_on = v.cancelled_on, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id""")
_APPOINTED = bulk(f"""{_NOTICE}, appointed_on date, kind text, post_id text, post text, unit text, township text,
                     last_position bigint""", """
  UPDATE rm_appointments a SET appointed_on = v.appointed_on, appointed_kind = v.kind, appointed_post_id = v.post_id,
    appointed_post = v.post, appointed_unit = v.unit, appointed_township = v.township, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.notice_id = v.notice_id AND a.appointed_on IS NULL""")
_WITHDRAWN = bulk(f"{_SELECTION}, withdrawn_on date, reason text, last_position bigint", """
  UPDATE rm_appointments a SET withdrawn_on = v.withdrawn_on, withdraw_reason = v.reason,
    last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.selection_id = v.selection_id""")
_ISSUES = bulk("cadre_id text, selection_id text, issues text", """
  UPDATE rm_appointments a SET issues = v.issues::jsonb
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.selection_id = v.selection_id""")

_TYPES = frozenset({"selection.inspected", "appointment.voted", "notice.posted", "notice.objection_received",
                    "appointment.deferred", "notice.closed", "appointment.qualification_cancelled", "post.assigned",
                    "selection.withdrawn"})
CHECKS = ("dossier_checked", "personal_matters_checked", "discipline_opinion_obtained", "petitions_checked")


class ComplianceProjection:
    """`rm_appointments`: one row per selection, step by step."""

    name = "appointment_compliance"
    # 3: the post taken, checked against the post proposed; 4: notices checked under the corrected rule sets (the
    # 2002 条例's calendar days before 2014-01-14), which rebuilds the rows the version corrected had checked; 5: a
    # clear close on the notice's last day is an issue (notice.period_not_over: the period counts that day); 6: a
    # deferral past the longest the rule set of its day allows is an issue (appointment.deferral_max); 7: so is one not
    # ending after its decision day
    version = 7
    tables: tuple[str, ...] = ("rm_appointments",)
    sql_types: frozenset[str] = frozenset()
    types = _TYPES

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Apply the batch's selection, notice and posting events with the effect of position order.

        Every statement keeps to its cadre's rows.
        """
        todo = Statements()
        for e in events:
            d = e.data
            if e.type == "selection.inspected":
                checks = orjson.dumps({k: bool(d.get(k)) for k in CHECKS}).decode()
                todo.add(_INSPECTED, e.cadre_id, d["selection_id"], e.county, d["proposed_post"], d["promotion"],
                         e.occurred_on, checks, e.position)
            elif e.type == "selection.withdrawn":
                todo.add(_WITHDRAWN, e.cadre_id, d["selection_id"], e.occurred_on, d["reason"], e.position)
            elif e.type == "appointment.voted":
                todo.add(_VOTED, e.cadre_id, d["selection_id"], e.occurred_on, d["members_entitled"],
                         d["members_present"], d["votes_for"], d["votes_against"], d["votes_deferred"], d["outcome"],
                         e.position)
            elif e.type == "notice.posted":
                todo.add(_POSTED, e.cadre_id, d["selection_id"], d["notice_id"], e.occurred_on, day(d["start"]),
                         day(d["end"]), d["working_days"], d.get("provisional_calendar_years"), e.position)
            elif e.type == "notice.objection_received":
                todo.add(_OBJECTION, e.cadre_id, d["notice_id"], e.position)
            elif e.type == "appointment.deferred":
                todo.add(_DEFERRED, e.cadre_id, d["notice_id"], e.occurred_on, day(d["until"]), e.position)
            elif e.type == "notice.closed" and d["outcome"] == "deferred":
                todo.add(_CLOSED_DEFERRED, e.cadre_id, d["notice_id"], e.occurred_on, e.position)
            elif e.type == "notice.closed":
                todo.add(_CLOSED, e.cadre_id, d["notice_id"], e.occurred_on, d["outcome"], e.position)
            elif e.type == "appointment.qualification_cancelled":
                todo.add(_CANCELLED, e.cadre_id, d["notice_id"], e.occurred_on, e.position)
            elif e.type == "post.assigned" and d.get("notice_id"):
                todo.add(_APPOINTED, e.cadre_id, d["notice_id"], e.occurred_on, d["kind"], d["post_id"], d["post"],
                         d["unit"], d.get("township"), e.position)
        await todo.run(conn)
        # the checks read whole rows, so they run once the batch is in, for the cadres whose rows a statement
        # may have changed (issues depend on nothing but the row)
        touched = sorted({args[0] for _, runs in todo.runs for args in runs})
        if touched:
            rows = await conn.fetch("SELECT * FROM rm_appointments WHERE cadre_id = ANY($1::text[])", touched)
            if rows:
                await execute_bulk(conn, _ISSUES, [(r["cadre_id"], r["selection_id"],
                                                    orjson.dumps(issues(r, _steps(r))).decode()) for r in rows])


PROJECTIONS = [ComplianceProjection()]


class Step(BaseModel):
    step: str = Field(description="inspected, voted, withdrawn (终止选拔, ended before a notice), notice_posted, "
                                  "deferred, closed_deferred, notice_closed, qualification_cancelled, appointed.")
    label_zh: str
    on: date
    detail: str | None = None


class Tally(BaseModel):
    members_entitled: int
    members_present: int
    votes_for: int
    votes_against: int
    votes_deferred: int
    outcome: str


class Issue(BaseModel):
    rule: str
    message_en: str
    message_zh: str


class AppointmentEntry(BaseModel):
    cadre_id: str
    county: str
    selection_id: str
    proposed_post: str
    promotion: bool
    appointed_post: str | None = Field(description="The post taken under the notice (所任职务), once appointed.")
    stage: str = Field(description="The latest step reached (当前环节).")
    steps: list[Step]
    checks: dict[str, bool] = Field(description="The inspection's four checks (考察四项查核).")
    tally: Tally | None = Field(description="The committee vote (票决结果).")
    notice_id: str | None
    notice_start: date | None
    notice_end: date | None
    notice_working_days: int | None = Field(description="Working days of the notice (公示工作日数).")
    notice_provisional_years: ProvisionalCalendarYears = None
    objections: int
    deferred_until: date | None
    outcome: str | None
    compliant: bool = Field(description="No issue found in the steps so far (程序合规).")
    issues: list[Issue]


class AppointmentPage(BaseModel):
    total: int
    appointments: list[AppointmentEntry]


class AppointmentFilter(AssessmentQuery):
    selection_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:/-]{1,64}$", description="Only this selection.")
    compliant: bool | None = Field(None, description="Only compliant (true) or non-compliant (false) ones.")


_LABELS = {"inspected": "任前考察", "voted": "常委会票决", "notice_posted": "任前公示", "deferred": "缓任",
           "closed_deferred": "公示结束: 缓任", "notice_closed": "公示结束", "qualification_cancelled": "取消任职资格",
           "appointed": "任职", "withdrawn": "终止选拔"}


def _steps(r: asyncpg.Record) -> list[dict[str, Any]]:
    found = [("inspected", r["inspected_on"], None), ("voted", r["voted_on"], r["vote_outcome"]),
             ("notice_posted", r["notice_posted_on"], r["notice_id"]),
             ("deferred", r["deferred_on"], r["deferred_until"] and f"until {r['deferred_until'].isoformat()}"),
             ("closed_deferred", r["closed_deferred_on"], "deferred"),
             ("notice_closed", r["closed_on"], r["outcome"] if r["closed_on"] else None),
             ("qualification_cancelled", r["cancelled_on"], None),
             ("appointed", r["appointed_on"], r["appointed_kind"]),
             ("withdrawn", r["withdrawn_on"], r["withdraw_reason"])]
    return [{"step": s, "label_zh": _LABELS[s], "on": on, "detail": detail} for s, on, detail in found if on]


def _issue(rule: str, en: str, zh: str) -> dict[str, str]:
    return {"rule": rule, "message_en": en, "message_zh": zh}


def issues(r: asyncpg.Record, steps: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What the recorded steps break (DOMAIN.md rules 1, 2), from the events alone."""
    found: list[dict[str, str]] = []
    if not all(orjson.loads(r["checks"]).values()):
        found.append(_issue("selection.inspection_incomplete", "the inspection lacks one of its four checks",
                            "任前考察四项查核不全"))
    for before, after in itertools.pairwise(steps):
        if after["on"] < before["on"]:
            found.append(_issue("selection.order", f"{after['step']} ({after['on']}) precedes {before['step']} "
                                f"({before['on']})", f"{after['label_zh']}早于{before['label_zh']}"))
    if r["voted_on"] is not None and (rs := ruleset_or_none(r["county"], r["voted_on"])) is not None:
        a = rs.assessment
        if r["members_present"] * a.vote_quorum_den < r["members_entitled"] * a.vote_quorum_num:
            found.append(_issue("appointment.vote_quorum", "fewer than the quorum of members were present",
                                f"到会成员不足应到会成员的{a.vote_quorum_num}/{a.vote_quorum_den}"))
        majority = r["votes_for"] * a.vote_majority_den > r["members_entitled"] * a.vote_majority_num
        if r["vote_outcome"] == "approved" and not majority:
            found.append(_issue("appointment.vote_majority", "approved without more than half of all members entitled",
                                "同意票未超过应到会成员半数却通过"))
    if r["notice_id"] is not None:
        if r["vote_outcome"] != "approved":
            found.append(_issue("selection.order", "notice posted without an approved vote", "未经票决通过即公示"))
        rs = ruleset_or_none(r["county"], r["notice_posted_on"])
        least = None if rs is None else rs.assessment.notice_min_working_days
        # before 2014 the 条例 counted the notice in calendar days (一般为七至十五天), first and last counted
        least_days = None if rs is None else rs.assessment.notice_min_calendar_days
        days = (r["notice_end"] - r["notice_start"]).days + 1
        if least_days is not None and days < least_days:
            found.append(_issue("notice.min_calendar_days", f"notice period must be at least {least_days} calendar "
                                f"days: {days}", f"任前公示期不少于{least_days}天: 只有{days}天"))
        # counted again on the calendar this projection runs with, when the notice's count was provisional
        now = recounted_working_days(r["notice_start"], r["notice_end"], r["notice_provisional_years"])
        if least is not None and r["notice_working_days"] < least:
            found.append(_issue("notice.min_working_days", f"notice period must be at least {least} working days: "
                                f"{r['notice_working_days']}", f"任前公示期不少于{least}个工作日: 只有"
                                f"{r['notice_working_days']}个"))
        elif least is not None and now is not None and now < least:
            years = r["notice_provisional_years"]
            found.append(_issue(
                "notice.min_working_days_recounted",
                f"the notice's {r['notice_working_days']} working days were counted on the provisional calendar of "
                f"{', '.join(map(str, years))}; counted on the calendar now it has {now}, fewer than {least}",
                f"公示期按{'、'.join(map(str, years))}年暂定日历计为{r['notice_working_days']}个工作日，按现行日历复核"
                f"只有{now}个，少于{least}个"))
    # a deferral the assessment service's appointment.deferral_max refuses: one not ending after its decision day, or
    # recorded past the longest the rule set of its day allows, counted as the service counts it
    # (shared.tenure.deferral_latest), e.g. by a producer that let it run a day longer (431021@2019.1)
    if r["deferred_on"] is not None and r["deferred_until"] <= r["deferred_on"]:
        found.append(_issue("appointment.deferral_max",
                            f"deferred until {r['deferred_until'].isoformat()}, not after the day it was decided "
                            f"({r['deferred_on'].isoformat()})",
                            f"缓任至{r['deferred_until'].isoformat()}, 不晚于缓任决定日{r['deferred_on'].isoformat()}"))
    elif r["deferred_on"] is not None and (rs := ruleset_or_none(r["county"], r["deferred_on"])) is not None:
        latest = deferral_latest(r["deferred_on"], rs.rotation)
        if r["deferred_until"] > latest:
            months = rs.rotation.deferral_max_months
            found.append(_issue("appointment.deferral_max",
                                f"deferred until {r['deferred_until'].isoformat()}: a deferral decided on "
                                f"{r['deferred_on'].isoformat()} lasts at most {months} months, until "
                                f"{latest.isoformat()}",
                                f"缓任至{r['deferred_until'].isoformat()}: 缓任期限最长{months}个月, "
                                f"{r['deferred_on'].isoformat()}决定的缓任至迟至{latest.isoformat()}"))
    # the period counts its last day: a clear close dated on it ended the notice before the period had run
    if r["outcome"] in CLEARING and r["closed_on"] <= r["notice_end"]:
        found.append(_issue("notice.period_not_over", "closed on or before the notice's last day, before its period "
                            "had run", "公示期未满即结束 (截止日当天或之前结束)"))
    if r["withdrawn_on"] is not None and (r["notice_posted_on"] is not None or r["appointed_on"] is not None):
        found.append(_issue("selection.withdrawn", "a notice or an appointment recorded for a withdrawn selection",
                            "已终止的选拔又有公示或任职记录"))
    if r["appointed_on"] is not None and r["outcome"] not in CLEARING:
        found.append(_issue("selection.order", "appointed without a notice closed as clear or minor_issue_reminded",
                            "任职前公示未以无异议或提醒后任用结束"))
    if r["appointed_post"] is not None and not names_post(r["proposed_post"], r["appointed_post"],
                                                          (r["appointed_township"], r["appointed_unit"])):
        found.append(_issue("posting.notice_post_matches",
                            f"appointed to {r['appointed_post']} ({r['appointed_unit']}), not to the post the notice "
                            f"made public ({r['proposed_post']})",
                            f"所任职务{r['appointed_post']} ({r['appointed_unit']}) 与公示的拟任职务"
                            f"{r['proposed_post']}不符"))
    return found


def _entry(r: asyncpg.Record) -> dict[str, Any]:
    steps = _steps(r)
    found = orjson.loads(r["issues"])
    tally = None if r["voted_on"] is None else {
        "members_entitled": r["members_entitled"], "members_present": r["members_present"],
        "votes_for": r["votes_for"], "votes_against": r["votes_against"], "votes_deferred": r["votes_deferred"],
        "outcome": r["vote_outcome"]}
    return {**{k: r[k] for k in ("cadre_id", "county", "selection_id", "proposed_post", "promotion", "appointed_post",
                                 "notice_id", "notice_start", "notice_end", "notice_working_days",
                                 "notice_provisional_years", "objections", "deferred_until", "outcome")},
            "stage": steps[-1]["step"], "steps": steps, "checks": orjson.loads(r["checks"]), "tally": tally,
            "compliant": not found, "issues": found}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/appointments`: each selection's steps and issues."""

    @api.route("GET", "/v1/appointments", summary="Appointment compliance (选拔任用程序合规)", query=AppointmentFilter,
               response=AppointmentPage, tags=TAGS, recorded="list")
    async def appointments(request: web.Request, *, query: AppointmentFilter) -> dict[str, Any]:
        """Selections, latest inspection first, each with its steps, dates, vote tally, notice and issues."""
        where = """($1::text IS NULL OR county = $1) AND ($2::text IS NULL OR cadre_id = $2)
                   AND ($3::text IS NULL OR selection_id = $3) AND ($4::boolean IS NULL OR compliant = $4)"""
        args = [query.county, query.cadre_id, query.selection_id, query.compliant]
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM rm_appointments WHERE {where}", *args)
            rows = await conn.fetch(f"""SELECT * FROM rm_appointments WHERE {where}
                                        ORDER BY inspected_on DESC, cadre_id, selection_id OFFSET $5 LIMIT $6""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        return {"total": total, "appointments": [_entry(r) for r in rows]}
