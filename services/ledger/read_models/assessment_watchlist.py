"""The assessment watchlist (考核预警): what an assessment requires and whether it was done.

Kinds of item, each from one event, each resolved by a later one (on or after the day it arose):

- `threshold_breach` (民主测评触及降免职线, rule 7): resolved by a demotion (`post.assigned` kind demotion,
  `post.vacated` reason demotion, the organisational handling `sanction.imposed` organisational.demotion) or a
  removal (`post.vacated` reason dismissal, `sanction.imposed` organisational.removal or
  administrative.dismissal_from_post 撤职);
- `basically_competent` (基本称职, rule 6): an admonishment talk is due (`supervision.talk_held` kind
  admonishment resolves it); promotion is barred in the years listed;
- `incompetent_demotion` (不称职待降职, rule 6): a 不称职 grade that demotes the cadre one level (降低一个职务或者
  职级层次任职; `shared.appointment_blockers.grade_demotes`: not one of a cadre whose posts on record are all
  non-leadership ones at 科员); resolved as a breach is, by a demotion or a removal (which answers a dismissal case
  the grade opens beside it too);
- `dismissal_case` (连续两年不称职, rule 6): two adjacent years graded incompetent, read from the grades on record
  (as `consecutive_low_grades` is), not from the flag the grade's event carries, which a later correction of the
  other year's grade leaves as it was; keyed by the later year; resolved by a removal (`post.vacated` reason
  dismissal, or one of the two sanctions above);
- `consecutive_low_grades` (连续两年基本称职或不称职): two adjacent years graded basically competent or
  incompetent; resolved by a competent or excellent grade for a later year;
- `retest_due` (补测, rule 8): due on the retest day; resolved by the retest;
- `second_failure` (补测不合格, rule 8): the action named (逆向交流, 降职, 改任非领导职务) is due; resolved by a
  `post.assigned` of kind rotation or a `rotation.completed`, a `post.assigned` of kind demotion or the sanction
  organisational.demotion, or a `post.assigned` or `rotation.completed` to a non-leadership post, respectively.
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
from services.ledger.read_models.assessment_common import TAGS, AssessmentQuery
from services.ledger.statements import Statements, bulk, day
from shared.access import answered_rows
from shared.appointment_blockers import DEMOTION_ITEMS, REMOVAL_ITEMS, REMOVALS, grade_demotes
from shared.clock import clock_from
from shared.db import acquire
from shared.http import Api
from shared.settings import Settings

Kind = Literal["threshold_breach", "basically_competent", "incompetent_demotion", "dismissal_case",
               "consecutive_low_grades", "retest_due", "second_failure"]
KIND_ZH = {"threshold_breach": "民主测评触及降免职线", "basically_competent": "基本称职 (诫勉, 次年不得提拔)",
           "incompetent_demotion": "不称职 (降低一个职务或者职级层次, 待降职)",
           "dismissal_case": "连续两年不称职 (免职程序)", "consecutive_low_grades": "连续两年考核等次偏低",
           "retest_due": "能力测试补测", "second_failure": "补测不合格 (组织处理)"}
LOW = ("basically_competent", "incompetent")

_LOW_SQL = "ARRAY[" + ", ".join(f"'{grade}'" for grade in LOW) + "]"
# every statement reads and writes only the rows of its first column's cadre, so each run of them goes
# as one statement over all its rows (services.ledger.statements)
_ITEM = bulk("""cadre_id text, kind text, item_key text, county text, year integer, since date, due date, detail text,
                last_position bigint""", """
  INSERT INTO rm_assessment_watch (cadre_id, kind, item_key, county, year, since, due, detail, last_position)
  SELECT cadre_id, kind, item_key, county, year, since, due, detail::jsonb, last_position FROM {rows}
  ON CONFLICT (cadre_id, kind, item_key) DO NOTHING""")
_GRADE = bulk("cadre_id text, year integer, grade text, county text, since date, last_position bigint", """
  WITH g AS (INSERT INTO rm_assessment_grades (cadre_id, year, grade, graded_on)
             SELECT cadre_id, year, grade, since FROM {rows}
             ON CONFLICT (cadre_id, year) DO UPDATE SET grade = EXCLUDED.grade, graded_on = EXCLUDED.graded_on)
  INSERT INTO rm_assessment_watch (cadre_id, kind, item_key, county, year, since, detail, last_position)
  SELECT v.cadre_id, 'consecutive_low_grades', least(o.year, v.year) || '-' || greatest(o.year, v.year), v.county,
         greatest(o.year, v.year), v.since,
         jsonb_build_object('grades', jsonb_build_object(o.year::text, o.grade, v.year::text, v.grade)), v.last_position
  FROM {rows} JOIN rm_assessment_grades o ON o.cadre_id = v.cadre_id AND o.year IN (v.year - 1, v.year + 1)
  WHERE v.grade = ANY(""" + _LOW_SQL + ") AND o.grade = ANY(" + _LOW_SQL + """)
  UNION ALL
  SELECT v.cadre_id, 'dismissal_case', greatest(o.year, v.year)::text, v.county, greatest(o.year, v.year), v.since,
         jsonb_build_object('consecutive_incompetent_years', jsonb_build_array(least(o.year, v.year),
                                                                               greatest(o.year, v.year))),
         v.last_position
  FROM {rows} JOIN rm_assessment_grades o ON o.cadre_id = v.cadre_id AND o.year IN (v.year - 1, v.year + 1)
  WHERE v.grade = 'incompetent' AND o.grade = 'incompetent'
  ON CONFLICT (cadre_id, kind, item_key) DO NOTHING""")
_IMPROVED = bulk("cadre_id text, year integer, resolved_on date, resolution text, last_position bigint", """
  UPDATE rm_assessment_watch w SET resolved_on = v.resolved_on, resolution = v.resolution,
    last_position = v.last_position
  FROM {rows}
  WHERE w.cadre_id = v.cadre_id AND w.kind = 'consecutive_low_grades' AND w.resolved_on IS NULL AND w.year < v.year""")
# kinds: space-separated (kind names have no spaces), as a bulk column is a scalar
_RESOLVE = bulk("cadre_id text, kinds text, action text, resolved_on date, resolution text, last_position bigint", """
  UPDATE rm_assessment_watch w SET resolved_on = v.resolved_on, resolution = v.resolution,
    last_position = v.last_position
  FROM {rows}
  WHERE w.cadre_id = v.cadre_id AND w.kind = ANY(string_to_array(v.kinds, ' ')) AND w.resolved_on IS NULL
    AND w.since <= v.resolved_on AND (v.action IS NULL OR w.detail ->> 'action' = v.action)""")


class WatchlistProjection:
    """`rm_assessment_watch` (and `rm_assessment_grades`, to see consecutive years)."""

    name = "assessment_watchlist"
    version = 6  # 3: dismissal cases read from the grades on record; 4: the day of each grade; 5: a 不称职
    # grade, now listing years without promotion, is no 基本称职 item; 6: a 不称职 grade that demotes is an
    # incompetent_demotion item, resolved by a demotion or removal
    tables: tuple[str, ...] = ("rm_assessment_watch", "rm_assessment_grades")
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"assessment.annual_graded", "assessment.threshold_breached", "assessment.competency_tested",
                       "supervision.talk_held", "post.vacated", "post.assigned", "rotation.completed",
                       "sanction.imposed"})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Raise and resolve items with the effect of position order (every statement keeps to its cadre's rows)."""
        todo = Statements()
        for e in events:
            self._event(todo, e)
        await todo.run(conn)

    @staticmethod
    def _item(todo: Statements, e: ProjectedEvent, kind: str, key: str, year: int | None, detail: dict[str, Any],
              due: date | None = None) -> None:
        todo.add(_ITEM, e.cadre_id, kind, key, e.county, year, e.occurred_on, due, orjson.dumps(detail).decode(),
                 e.position)

    @staticmethod
    def _resolve(todo: Statements, e: ProjectedEvent, kinds: Sequence[str], resolution: str,
                 action: str | None = None) -> None:
        todo.add(_RESOLVE, e.cadre_id, " ".join(kinds), action, e.occurred_on, resolution, e.position)

    def _event(self, todo: Statements, e: ProjectedEvent) -> None:
        d = e.data
        if e.type == "assessment.annual_graded":
            year = int(d["year"])
            todo.add(_GRADE, e.cadre_id, year, d["grade"], e.county, e.occurred_on, e.position)
            if d["grade"] in ("competent", "excellent"):
                todo.add(_IMPROVED, e.cadre_id, year, e.occurred_on, f"graded {d['grade']} for {year} ({year}年度考核"
                         f"{'优秀' if d['grade'] == 'excellent' else '称职'})", e.position)
            # a 不称职 grade lists years without promotion too, but is no 基本称职 item (dismissal_case is its own)
            basically = d["grade"] == "basically_competent"
            if basically and (d.get("admonishment_required") or d.get("promotion_blocked_years")):
                self._item(todo, e, "basically_competent", str(year), year, {
                    "admonishment_required": d.get("admonishment_required", False),
                    "promotion_blocked_years": d.get("promotion_blocked_years", [])})
            if grade_demotes(d):
                self._item(todo, e, "incompetent_demotion", str(year), year, {
                    "required_decision": "demotion", "promotion_blocked_years": d.get("promotion_blocked_years", [])})
        elif e.type == "assessment.threshold_breached":
            self._item(todo, e, "threshold_breach", str(d["year"]), int(d["year"]),
                       {"rule": d["rule"], "evaluations": d["evaluations"],
                        "required_decision": d.get("required_decision")})
        elif e.type == "assessment.competency_tested":
            self._competency(todo, e)
        elif e.type == "supervision.talk_held" and d.get("kind") == "admonishment":
            self._resolve(todo, e, ["basically_competent"], "admonishment talk held (已诫勉谈话)")
        elif e.type == "post.vacated" and d.get("reason") in ("dismissal", "demotion"):
            resolution = "removed (免职)" if d["reason"] == "dismissal" else "demoted (降职)"
            self._resolve(todo, e, REMOVAL_ITEMS if d["reason"] == "dismissal" else DEMOTION_ITEMS, resolution)
        elif e.type == "post.assigned":
            if d.get("kind") == "demotion":
                self._resolve(todo, e, DEMOTION_ITEMS, "demoted (降职)")
                self._resolve(todo, e, ["second_failure"], "demoted (降职)", "demotion")
            if d.get("kind") == "rotation":
                self._resolve(todo, e, ["second_failure"], "reverse rotation (逆向交流)", "reverse_rotation")
            if d.get("leadership") is False:
                self._resolve(todo, e, ["second_failure"], "non-leadership post (改任非领导职务)",
                              "non_leadership_post")
        elif e.type == "rotation.completed":
            self._resolve(todo, e, ["second_failure"], "reverse rotation (逆向交流)", "reverse_rotation")
            if d["to"].get("leadership") is False:
                self._resolve(todo, e, ["second_failure"], "non-leadership post (改任非领导职务)",
                              "non_leadership_post")
        elif e.type == "sanction.imposed":
            self._sanction(todo, e)

    def _sanction(self, todo: Statements, e: ProjectedEvent) -> None:
        """Organisational handling or a dismissal from post decided as a sanction is the demotion or removal an
        item requires, whichever service recorded it."""
        measure = f"{e.data['category']}.{e.data['measure']}"
        if measure == "organisational.demotion":
            self._resolve(todo, e, DEMOTION_ITEMS, "demoted (降职, 组织处理)")
            self._resolve(todo, e, ["second_failure"], "demoted (降职, 组织处理)", "demotion")
        elif measure in REMOVALS:
            self._resolve(todo, e, REMOVAL_ITEMS, REMOVALS[measure])

    def _competency(self, todo: Statements, e: ProjectedEvent) -> None:
        d = e.data
        if int(d["attempt"]) == 1:
            if not d["passed"]:
                self._item(todo, e, "retest_due", e.occurred_on.isoformat(), None, {"score": d["score"]},
                           due=day(d.get("retest_due")))
            return
        outcome = "retest passed (补测合格)" if d["passed"] else "retest failed (补测不合格)"
        self._resolve(todo, e, ["retest_due"], outcome)
        if not d["passed"]:
            self._item(todo, e, "second_failure", e.occurred_on.isoformat(), None,
                       {"action": d.get("action"), "score": d["score"]})


PROJECTIONS = [WatchlistProjection()]


class WatchFilter(AssessmentQuery):
    kind: Kind | None = Field(None, description="Only this kind of item.")
    state: Literal["open", "resolved", "all"] = Field("open", description="open (default), resolved, all.")
    as_of: date | None = Field(None, description="The day the list is for: the items raised by then, resolved only "
                                                "if resolved by then (default: today).")


class WatchItem(BaseModel):
    cadre_id: str
    county: str
    kind: Kind
    kind_zh: str
    year: int | None
    since: date
    due: date | None
    status: Literal["open", "due", "scheduled", "resolved"] = Field(
        description="resolved; a retest: scheduled before its day, due from it; otherwise open.")
    promotion_blocked: bool = Field(description="Promotion is barred on `as_of` by the item (不得提拔): a 基本称职 "
                                                "or 不称职 grade in the years it lists, and a breach, a 不称职 grade "
                                                "awaiting its demotion or a dismissal case while open "
                                                "(assessment.demotion_pending).")
    detail: dict[str, Any]
    resolved_on: date | None
    resolution: str | None


class WatchPage(BaseModel):
    as_of: date
    total: int
    items: list[WatchItem]


def _item(r: asyncpg.Record, as_of: date) -> dict[str, Any]:
    detail = orjson.loads(r["detail"])
    resolved = r["resolved_on"] is not None and r["resolved_on"] <= as_of
    if resolved:
        status = "resolved"
    elif r["kind"] == "retest_due":
        status = "due" if r["due"] is not None and as_of >= r["due"] else "scheduled"
    else:
        status = "open"
    return {**{k: r[k] for k in ("cadre_id", "county", "kind", "year", "since", "due")},
            "resolved_on": r["resolved_on"] if resolved else None, "resolution": r["resolution"] if resolved else None,
            "kind_zh": KIND_ZH[r["kind"]], "status": status, "detail": detail,
            # REMOVAL_ITEMS: every item assessment.demotion_pending bars promotion for while it is open
            "promotion_blocked": (r["kind"] in REMOVAL_ITEMS and not resolved)
            or as_of.year in detail.get("promotion_blocked_years", [])}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/watchlist/assessment`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/watchlist/assessment", summary="Assessment watchlist (考核预警名单)", query=WatchFilter,
               response=WatchPage, tags=TAGS, recorded="list")
    async def watchlist(request: web.Request, *, query: WatchFilter) -> dict[str, Any]:
        """Threshold breaches, low grades, dismissal cases, retests and second failures, oldest first."""
        as_of = query.as_of or clock.today()
        # as it stood on as_of: items raised by then, resolved only when resolved by then
        where = """($1::text IS NULL OR county = $1) AND ($2::text IS NULL OR cadre_id = $2)
                   AND ($3::text IS NULL OR kind = $3) AND since <= $5
                   AND ($4 = 'all' OR ($4 = 'open') = (resolved_on IS NULL OR resolved_on > $5))"""
        args = [query.county, query.cadre_id, query.kind, query.state, as_of]
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM rm_assessment_watch WHERE {where}", *args)
            rows = await conn.fetch(f"""SELECT * FROM rm_assessment_watch WHERE {where}
                                        ORDER BY since, cadre_id, kind, item_key OFFSET $6 LIMIT $7""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        return {"as_of": as_of, "total": total, "items": [_item(r, as_of) for r in rows]}
