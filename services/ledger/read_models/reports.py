"""The report funnel (举报受理与核查): reports received -> verified (with outcome) -> what followed.

One row per report. What followed is linked to the report by the events themselves: a talk, an
inquiry or a sanction naming its `report_id`; a deferral (缓任) or a cancelled qualification (取消任职资格)
of a notice to which the report was an objection: one filed against it (`notice.objection_received` names
the report), or any report about the cadre received from the notice's first day while it was still open, as
the notices read model counts its objections (`rm_report_notice_periods` keeps the notices for that).
Seed S1 over three years: 95 reports, 23 leaders checked (查核, whatever the outcome), 12 given a reminder or
admonishment talk, 1 deferred, 1 cancelled, 2 given a disciplinary sanction (纪律处分; organisational handling,
组织处理, is counted apart). Outcomes are counted in cadres (as S1 counts them), reports in reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.audit_common import TAGS
from services.ledger.read_models.summaries import PeriodQuery
from services.ledger.statements import Statements, bulk
from shared.db import acquire
from shared.http import Api
from shared.settings import Settings

# Every statement reads and writes only the rows of its first column's cadre, so each run of them goes as one
# statement over all its rows (services.ledger.statements).
_RECEIVED = bulk("cadre_id text, report_id text, county text, channel text, named boolean, received_on date", """
  INSERT INTO rm_reports (cadre_id, report_id, county, channel, named, received_on) SELECT * FROM {rows}
  ON CONFLICT (cadre_id, report_id) DO NOTHING""")
_VERIFIED = bulk("cadre_id text, report_id text, verified_on date, outcome text", """
  UPDATE rm_reports r SET verified_on = v.verified_on, outcome = v.outcome
  FROM {rows} WHERE r.cadre_id = v.cadre_id AND r.report_id = v.report_id""")
_FOLLOWED = {column: bulk("cadre_id text, report_id text, day date", f"""
  UPDATE rm_reports r SET {column} = coalesce(r.{column}, v.day)
  FROM {{rows}} WHERE r.cadre_id = v.cadre_id AND r.report_id = v.report_id""")
             for column in ("talk_on", "inquiry_on", "sanctioned_on", "handled_on")}
_OBJECTION = bulk("cadre_id text, notice_id text, report_id text", """
  INSERT INTO rm_report_notices (cadre_id, notice_id, report_id) SELECT * FROM {rows} ON CONFLICT DO NOTHING""")
# what followed a notice followed from the reports received by then, not from one received during a deferral
_NOTICE_OUTCOME = {column: bulk("cadre_id text, notice_id text, day date", f"""
  UPDATE rm_reports r SET {column} = coalesce(r.{column}, v.day)
  FROM {{rows}} JOIN rm_report_notices n ON n.cadre_id = v.cadre_id AND n.notice_id = v.notice_id
  WHERE r.cadre_id = n.cadre_id AND r.report_id = n.report_id AND r.received_on <= v.day""")
                   for column in ("deferred_on", "cancelled_on")}
_NOTICE_POSTED = bulk("cadre_id text, notice_id text, start_on date", """
  INSERT INTO rm_report_notice_periods (cadre_id, notice_id, start_on) SELECT * FROM {rows} ON CONFLICT DO NOTHING""")
# a close as deferred (缓任) keeps the notice open for reports, as the notices read model does; any other ends it
_NOTICE_CLOSED = bulk("cadre_id text, notice_id text, still_open boolean", """
  UPDATE rm_report_notice_periods p SET open = v.still_open
  FROM {rows} WHERE p.cadre_id = v.cadre_id AND p.notice_id = v.notice_id""")
_PERIOD_OUTCOME = {column: bulk("cadre_id text, notice_id text, day date", f"""
  UPDATE rm_report_notice_periods p SET {column} = coalesce(p.{column}, v.day)
    {", open = false" if column == "cancelled_on" else ""}
  FROM {{rows}} WHERE p.cadre_id = v.cadre_id AND p.notice_id = v.notice_id""")
                   for column in ("deferred_on", "cancelled_on")}
_RECEIVED_DURING = bulk("cadre_id text, report_id text, received_on date", """
  INSERT INTO rm_report_notices (cadre_id, notice_id, report_id)
  SELECT v.cadre_id, p.notice_id, v.report_id
  FROM {rows} JOIN rm_report_notice_periods p ON p.cadre_id = v.cadre_id
  WHERE p.open AND p.start_on <= v.received_on
  ON CONFLICT DO NOTHING""")
# a report linked to a notice after that notice's deferral or cancellation (a report recorded late) takes it too
_LINKED_OUTCOMES = bulk("cadre_id text, report_id text", """
  UPDATE rm_reports r SET deferred_on = coalesce(r.deferred_on, o.deferred_on),
                          cancelled_on = coalesce(r.cancelled_on, o.cancelled_on)
  FROM (SELECT x.cadre_id, x.report_id,
               min(p.deferred_on) FILTER (WHERE p.deferred_on >= x.received_on) AS deferred_on,
               min(p.cancelled_on) FILTER (WHERE p.cancelled_on >= x.received_on) AS cancelled_on
        FROM {rows} JOIN rm_reports x ON x.cadre_id = v.cadre_id AND x.report_id = v.report_id
        JOIN rm_report_notices n ON n.cadre_id = x.cadre_id AND n.report_id = x.report_id
        JOIN rm_report_notice_periods p ON p.cadre_id = n.cadre_id AND p.notice_id = n.notice_id
        GROUP BY x.cadre_id, x.report_id) AS o
  WHERE r.cadre_id = o.cadre_id AND r.report_id = o.report_id""")
_FOLLOWING = {"supervision.talk_held": "talk_on", "supervision.inquiry_sent": "inquiry_on",
              "sanction.imposed": "sanctioned_on"}
FUNNEL_TALKS = frozenset({"reminder", "admonishment"})
"""The talks that follow from a report in S1's count (提醒和诫勉谈话): not a heart-to-heart or pre-appointment one."""
_NOTICE_OUTCOMES = {"appointment.deferred": "deferred_on", "appointment.qualification_cancelled": "cancelled_on"}


class ReportFunnelProjection:
    """`rm_reports` and `rm_report_notices`."""

    name = "report_funnel"
    version = 4  # 3: a report received while a notice was open follows that notice's outcome; 4: if received by then
    tables: tuple[str, ...] = ("rm_reports", "rm_report_notices", "rm_report_notice_periods")
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"report.received", "report.verified", "notice.objection_received", "notice.posted",
                       "notice.closed", *_FOLLOWING, *_NOTICE_OUTCOMES})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Follow each report through the batch, with the effect of position order (per cadre)."""
        todo = Statements()
        for e in events:
            d = e.data
            if e.type == "report.received":
                todo.add(_RECEIVED, e.cadre_id, d["report_id"], e.county, d["channel"], d["named"], e.occurred_on)
                todo.add(_RECEIVED_DURING, e.cadre_id, d["report_id"], e.occurred_on)
                todo.add(_LINKED_OUTCOMES, e.cadre_id, d["report_id"])
            elif e.type == "report.verified":
                todo.add(_VERIFIED, e.cadre_id, d["report_id"], e.occurred_on, d["outcome"])
            elif e.type in _FOLLOWING and d.get("report_id"):
                column = _FOLLOWING[e.type]
                if e.type == "supervision.talk_held" and d["kind"] not in FUNNEL_TALKS:
                    continue
                if e.type == "sanction.imposed" and d["category"] == "organisational":
                    column = "handled_on"  # 组织处理 is no disciplinary sanction (纪律处分)
                todo.add(_FOLLOWED[column], e.cadre_id, d["report_id"], e.occurred_on)
            elif e.type == "notice.objection_received" and d.get("report_id"):
                todo.add(_OBJECTION, e.cadre_id, d["notice_id"], d["report_id"])
                todo.add(_LINKED_OUTCOMES, e.cadre_id, d["report_id"])
            elif e.type == "notice.posted":
                todo.add(_NOTICE_POSTED, e.cadre_id, d["notice_id"], d["start"])
            elif e.type == "notice.closed":
                todo.add(_NOTICE_CLOSED, e.cadre_id, d["notice_id"], d["outcome"] == "deferred")
            elif e.type in _NOTICE_OUTCOMES:
                column = _NOTICE_OUTCOMES[e.type]
                todo.add(_NOTICE_OUTCOME[column], e.cadre_id, d["notice_id"], e.occurred_on)
                todo.add(_PERIOD_OUTCOME[column], e.cadre_id, d["notice_id"], e.occurred_on)
        await todo.run(conn)


PROJECTIONS = [ReportFunnelProjection()]


class FunnelQuery(PeriodQuery):
    received_from: date | None = Field(None, description="Reports received on or after this day.")
    received_to: date | None = Field(None, description="Reports received on or before this day.")


class ReportFunnel(BaseModel):
    county: str | None
    received_from: date | None
    received_to: date | None
    as_of: date | None
    received: int = Field(description="Reports received (受理举报, 件).")
    named: int = Field(description="Named reports (实名).")
    anonymous: int = Field(description="Anonymous reports (匿名).")
    by_channel: dict[str, int] = Field(description="Reports per channel (举报渠道).")
    cadres_reported: int = Field(description="Cadres reported on (被举报干部, 人).")
    verified: int = Field(description="Reports verified (核查完毕, 件).")
    cadres_verified: int = Field(description="Cadres whose reports were verified (查核, 人).")
    pending: int = Field(description="Reports not verified yet (待核查); each blocks the cadre's appointment.")
    outcomes: dict[str, int] = Field(description="Verified reports per outcome (核查结果): unfounded 不属实, partly "
                                                 "部分属实, verified 属实.")
    talked_to: int = Field(description="Cadres given a reminder or admonishment talk after a report (提醒 / 诫勉谈话, "
                                       "人); heart-to-heart and pre-appointment talks are not counted.")
    inquired: int = Field(description="Cadres sent a written inquiry after a report (函询, 人).")
    deferred: int = Field(description="Appointments deferred after a report during the notice (缓任, 人).")
    qualification_cancelled: int = Field(description="Qualifications cancelled (取消任职资格, 人).")
    sanctioned: int = Field(description="Cadres given a disciplinary sanction after a report: party or administrative "
                                        "(纪律处分, 人).")
    handled: int = Field(description="Cadres given organisational handling after a report (组织处理, 人).")


# $4: the day the funnel is for (date.max: everything recorded); a step taken after it has not happened yet.
_FUNNEL_SQL = """
  WITH r AS (SELECT * FROM rm_reports WHERE ($1::text IS NULL OR county = $1)
               AND ($2::date IS NULL OR received_on >= $2) AND ($3::date IS NULL OR received_on <= $3)
               AND received_on <= $4)
  SELECT count(*) AS received, count(*) FILTER (WHERE named) AS named,
         count(DISTINCT cadre_id) AS cadres_reported,
         count(*) FILTER (WHERE verified_on <= $4) AS verified,
         count(DISTINCT cadre_id) FILTER (WHERE verified_on <= $4) AS cadres_verified,
         count(*) FILTER (WHERE verified_on <= $4 AND outcome = 'unfounded') AS unfounded,
         count(*) FILTER (WHERE verified_on <= $4 AND outcome = 'partly') AS partly,
         count(*) FILTER (WHERE verified_on <= $4 AND outcome = 'verified') AS verified_outcome,
         count(DISTINCT cadre_id) FILTER (WHERE talk_on <= $4) AS talked_to,
         count(DISTINCT cadre_id) FILTER (WHERE inquiry_on <= $4) AS inquired,
         count(DISTINCT cadre_id) FILTER (WHERE deferred_on <= $4) AS deferred,
         count(DISTINCT cadre_id) FILTER (WHERE cancelled_on <= $4) AS cancelled,
         count(DISTINCT cadre_id) FILTER (WHERE sanctioned_on <= $4) AS sanctioned,
         count(DISTINCT cadre_id) FILTER (WHERE handled_on <= $4) AS handled,
         coalesce((SELECT jsonb_object_agg(channel, n) FROM (SELECT channel, count(*) AS n FROM r GROUP BY channel) c),
                  '{}'::jsonb)::text AS by_channel
  FROM r"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/reports/funnel`."""

    @api.route("GET", "/v1/reports/funnel", summary="The report funnel (举报受理、核查与处理)", query=FunnelQuery,
               response=ReportFunnel, tags=TAGS)
    async def funnel(request: web.Request, *, query: FunnelQuery) -> dict[str, Any]:
        """Reports received in the period -> verified (by outcome) -> talks, inquiries, deferrals, cancelled
        qualifications and sanctions that followed from them; with `as_of`, as the funnel stood at the end of that
        day."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            r = await conn.fetchrow(_FUNNEL_SQL, query.county, query.received_from, query.received_to,
                                    query.as_of or date.max)
        assert r is not None
        return {"county": query.county, "received_from": query.received_from, "received_to": query.received_to,
                "as_of": query.as_of,
                "received": r["received"], "named": r["named"], "anonymous": r["received"] - r["named"],
                "by_channel": orjson.loads(r["by_channel"]), "cadres_reported": r["cadres_reported"],
                "verified": r["verified"], "cadres_verified": r["cadres_verified"],
                "pending": r["received"] - r["verified"],
                "outcomes": {"unfounded": r["unfounded"], "partly": r["partly"], "verified": r["verified_outcome"]},
                "talked_to": r["talked_to"], "inquired": r["inquired"], "deferred": r["deferred"],
                "qualification_cancelled": r["cancelled"], "sanctioned": r["sanctioned"], "handled": r["handled"]}
