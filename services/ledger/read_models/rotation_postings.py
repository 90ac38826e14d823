"""Current postings and tenure (现任职务与任职年限), and the rotations due, projected from events.

One projection keeps both tables: for every cadre touched by a batch, it folds the cadre's posting
events up to the batch's end with `shared.tenure` (the same fold the rotation service decides on)
and rewrites that cadre's rows before the transaction commits (in a rebuild, once at its end rather than
once per span). `rotation_due.py` serves the second table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.projections import EVENT_COLUMNS, ProjectedEvent, Span, decoded
from services.ledger.statements import bulk, execute_bulk
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.envelope import CADRE_ID_PATTERN, COUNTY_PATTERN
from shared.events.rotation import ELECTED_ZH, RULE_ZH, RotationRule
from shared.http import Api
from shared.settings import Settings
from shared.tenure import TENURE_EVENTS, TenureState, applicable_rules, completed_years, evolve_tenure

# a posting's rules travel as one space-separated string (rule names have no spaces), as a bulk column is a
# scalar
_POSTINGS = bulk("""cadre_id text, post_id text, county text, post text, unit text, township text, level text,
                    leadership boolean, internal_unit boolean, sensitive boolean, principal boolean,
                    elected boolean, kind text,
                    since date, township_since date, probation_end date, probation text, rules text,
                    last_position bigint""", """
  INSERT INTO rm_rotation_postings (cadre_id, post_id, county, post, unit, township, level, leadership, internal_unit,
                                    sensitive, principal, elected, kind, since, township_since, probation_end,
                                    probation, rules, last_position)
  SELECT cadre_id, post_id, county, post, unit, township, level, leadership, internal_unit, sensitive, principal,
         elected, kind, since, township_since, probation_end, probation, string_to_array(rules, ' '), last_position
  FROM {rows}""")
_DUES = bulk("""cadre_id text, post_id text, rule text, county text, post text, unit text, township text, since date,
                years integer, due_on date, overdue_on date, deferred_until date, approval_reference text,
                deferrals integer, last_position bigint""", """
  INSERT INTO rm_rotation_due (cadre_id, post_id, rule, county, post, unit, township, since, years, due_on,
                               overdue_on, deferred_until, approval_reference, deferrals, last_position)
  SELECT * FROM {rows}""")


FOLDED_LIMIT = 100_000
"""Cadres whose folded postings a rotation projection keeps between spans (about 1 KB each, so at most about
100 MB); past it, it writes the rows it holds back and starts over."""
_EARLIER = f"""SELECT {EVENT_COLUMNS} FROM ledger_events
               WHERE cadre_id = ANY($1::text[]) AND type = ANY($2::text[]) AND position > $3 AND position <= $4
               ORDER BY position"""
_TENURE_TYPES = sorted(TENURE_EVENTS)

Folded = tuple[TenureState, str, int]
"""A cadre's fold, county and last position folded."""
_UNFOLDED: Folded = (TenureState(), "", 0)  # immutable, so one for every cadre met first (not one per event folded)


class RotationProjection:
    """`rm_rotation_postings` and `rm_rotation_due`, rewritten per affected cadre (a `HoldsBack` projection)."""

    name = "rotation"
    # 3: a due whose tenure start a correction moved is void (shared.tenure); 4: a posting's elected (选举产生); 5: a
    # posting of kind election is elected, stated or not
    version = 5
    tables: tuple[str, ...] = ("rm_rotation_postings", "rm_rotation_due")
    sql_types: frozenset[str] = frozenset()
    types = frozenset(TENURE_EVENTS)

    def __init__(self) -> None:
        # The cadres touched so far, folded through position `_through` of the ledger, so that a later span
        # reads and folds only what came since instead of each cadre's whole history again. Ledger events
        # never change, so the fold holds whether or not the rows written from it were committed; a span
        # starting before `_through` (a retry after a rollback, a rebuild from 0) starts over. What an event
        # reads changes with a correction recorded after it: the fold holds only under the corrections it was
        # folded under (`_corrected`, the last that changed a posting event), and starts over with a span that
        # carries a later one (another runner, say, rebuilt the read model after it).
        self._folded: dict[str, Folded] = {}
        self._through = 0
        self._corrected = 0
        # Cadres folded since the last flush, whose rows are yet to be written: a rebuild writes each cadre's
        # rows once, not once per span it has events in.
        self._held: dict[str, Folded] = {}

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Re-fold each cadre with a posting event in the batch; its rows are written by `flush`.

        The span's own events are the ones given; of the cadres' earlier posting events, only those after
        what this projection has already folded are read.
        """
        mine = [e for e in events if e.type in TENURE_EVENTS]
        cadres = sorted({e.cadre_id for e in mine})
        if not cadres:
            return
        corrected = span.corrections.last_change(self.types)
        if span.after < self._through or corrected != self._corrected:
            # What is held belongs to a transaction that rolled back (the replayed spans fold those cadres again),
            # or was folded as events read before a correction (the rows another runner rebuilt since are current).
            self._folded, self._held, self._through, self._corrected = {}, {}, 0, corrected
        elif len(self._folded) > FOLDED_LIMIT:
            await self.flush(conn)
            self._folded = {}
        states = {c: self._folded[c] for c in cadres if c in self._folded}
        new = [c for c in cadres if c not in states]
        # the two reads are of different cadres, so each cadre's events stay in position order one after the other
        # earlier events as the span's corrections say they read (they were applied so: `projections.catch_up`)
        earlier = (decoded(await conn.fetch(_EARLIER, new, _TENURE_TYPES, 0, span.after), span.corrections)
                   if new else [])
        if span.after > self._through:
            # Positions this projection did not see (spans without its events, or another runner's): what the
            # folded cadres of this span and the held ones did meanwhile is read; the other folds are dropped.
            states = {**self._held, **states}  # the held cadres are folded ones, so `new` has none of them
            if states:
                earlier += decoded(await conn.fetch(_EARLIER, sorted(states), _TENURE_TYPES, self._through,
                                                    span.after), span.corrections)
            self._folded = {}
        for e in itertools.chain(earlier, mine):
            state, _, _ = states.get(e.cadre_id, _UNFOLDED)
            states[e.cadre_id] = (evolve_tenure(state, e.type, e.occurred_on, e.data), e.county, e.position)
        self._folded.update(states)
        self._held.update(states)
        self._through = span.upto

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Replace the rows of every cadre folded since the last flush."""
        held, self._held = self._held, {}
        if not held:
            return
        postings, dues = [], []
        for cadre_id, (state, county, position) in held.items():
            for p in state.posts.values():
                stint = state.stints.get(p.township) if p.township else None
                postings.append((cadre_id, p.post_id, county, p.post, p.unit, p.township, p.level, p.leadership,
                                 p.internal_unit, p.sensitive, p.principal, p.elected, p.kind, p.since,
                                 stint.since if stint else None, p.probation_end, p.probation,
                                 " ".join(applicable_rules(p)), position))
            for d in state.dues.values():
                p = state.posts[d.post_id]
                dues.append((cadre_id, d.post_id, d.rule, county, p.post, p.unit, p.township, d.since, d.years,
                             d.due_on, d.overdue_on, d.deferred_until, d.approval_reference, d.deferrals, position))
        cadres = sorted(held)
        await conn.execute("DELETE FROM rm_rotation_postings WHERE cadre_id = ANY($1::text[])", cadres)
        await conn.execute("DELETE FROM rm_rotation_due WHERE cadre_id = ANY($1::text[])", cadres)
        for sql, rows in ((_POSTINGS, postings), (_DUES, dues)):
            if rows:
                await execute_bulk(conn, sql, rows)


PROJECTIONS = [RotationProjection()]


class RotationFilter(BaseModel):
    """Filters shared by the posting and the rotation-due lists."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only this county (县).")
    township: str | None = Field(None, max_length=200, description="Only posts in this township (乡镇).")
    unit: str | None = Field(None, max_length=200, description="Only posts in this unit (单位).")
    rule: RotationRule | None = Field(None, description="Only posts under this rotation rule (交流规则).")
    cadre_id: str | None = Field(None, pattern=CADRE_ID_PATTERN, description="Only this cadre.")
    as_of: date | None = Field(None, description="Count tenure (and overdue rotations) up to this day, a future one "
                                                "to plan (default: today). The lists hold what is current now: the "
                                                "posts held now, the rotations due and not carried out now; a past "
                                                "day's postings are in a cadre's state as of that day "
                                                "(GET /v1/cadres/{id}/state?as_of=).")
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(100, ge=1, le=1000)


class PostingEntry(BaseModel):
    cadre_id: str
    county: str
    post_id: str
    post: str
    unit: str
    township: str | None
    level: str
    leadership: bool
    internal_unit: bool
    sensitive: bool
    principal: bool | None = Field(description="A principal's post (正职): true; a deputy's (副职): false; null: not "
                                               "stated.")
    elected: bool | None = Field(description="A post filled by election (选举产生; a promotion to it starts no "
                                             "probation): true, as every posting of kind election, stated or "
                                             "not; by appointment (委任): false; null: not stated (未说明, as in "
                                             "other postings recorded before the field existed).")
    elected_zh: str = Field(description="elected in words: 选举产生, 委任 or 未说明.")
    kind: str
    since: date = Field(description="Decision date of the posting (任职决定日期).")
    tenure_years: int = Field(description="Completed years in the post on as_of (本职任职年限).")
    tenure_days: int
    township_since: date | None = Field(description="Start of continuous presence in the township (乡镇起算日).")
    township_years: int | None = Field(description="Completed years in the township on as_of (乡镇任职年限).")
    probation_end: date | None
    probation: str = Field(description="none | running | confirmed | removed | ended_early (试用期).")
    rules: list[str] = Field(description="Rotation rules that apply to the post (适用的交流规则).")
    rules_zh: list[str]


class PostingPage(BaseModel):
    as_of: date
    total: int
    postings: list[PostingEntry]
    next_offset: int | None


FILTER_SQL = """($1::text IS NULL OR county = $1) AND ($2::text IS NULL OR township = $2)
                AND ($3::text IS NULL OR unit = $3) AND ($4::text IS NULL OR cadre_id = $4)"""


def filter_args(query: RotationFilter) -> list[Any]:
    """The positional arguments of FILTER_SQL."""
    return [query.county, query.township, query.unit, query.cadre_id]


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/rotation/postings`: who holds which post, since when."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/rotation/postings", summary="Current postings and tenure (现任职务与任职年限)",
               query=RotationFilter, response=PostingPage, tags=("read models 查询",), recorded="list")
    async def postings(request: web.Request, *, query: RotationFilter) -> dict[str, Any]:
        """Posts held now, with tenure in the post and in the township counted to `as_of` (0 for a post taken
        after it); filterable. A past day's postings are in the cadre's state as of that day."""
        as_of = query.as_of or clock.today()
        where = f"{FILTER_SQL} AND ($5::text IS NULL OR $5 = ANY(rules))"
        args = [*filter_args(query), query.rule]
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM rm_rotation_postings WHERE {where}", *args)
            rows = await conn.fetch(f"""SELECT * FROM rm_rotation_postings WHERE {where}
                                       ORDER BY cadre_id, post_id OFFSET $6 LIMIT $7""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        entries = []
        for r in rows:
            row = dict(r)
            row.pop("last_position")
            township_since = row["township_since"]
            entries.append({**row, "tenure_years": completed_years(row["since"], as_of),
                            "tenure_days": max((as_of - row["since"]).days, 0),
                            "township_years": completed_years(township_since, as_of) if township_since else None,
                            "rules": list(row["rules"]), "rules_zh": [RULE_ZH[x] for x in row["rules"]],
                            "elected_zh": ELECTED_ZH[row["elected"]]})
        more = query.offset + len(rows) < total
        return {"as_of": as_of, "total": total, "postings": entries,
                "next_offset": query.offset + len(rows) if more else None}
