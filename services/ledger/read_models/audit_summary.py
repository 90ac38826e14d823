"""The audit summary (经济责任审计及结果运用情况): audits completed in a period, their findings, and how the results
were applied, as an organisation department reports them each year.

Seed S1 over three years: "共对60名掌管资金、物资的部门主要领导进行任前、任期和离任经济责任审计，
其中有8名领导干部……受到降职、免职处理和纪律处分，5人受到了谈话处理": 60 leaders audited (pre-appointment, in
office, departure), 8 demoted, removed (organisational handling, 组织处理) or disciplined (a referral, 移送纪检
监察), 5 talked to (a talk or an admonishment, 谈话 / 诫勉). Counted in cadres, as S1 counts them; audits and
findings in audits and findings.
It reads the rows the audit findings read model keeps (`rm_audits`, `rm_audit_findings`, `audit_findings.py`):
the audits completed in the period, and what followed from them up to now, or up to `as_of` (a report's day: the
figures as they stood then, results applied, filed and findings rectified by that day).
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.read_models.audit_common import TAGS, yuan
from services.ledger.read_models.summaries import PeriodQuery, counts_of
from shared.db import acquire
from shared.events.audit import AppliedResult, AuditType, Evaluation, Responsibility
from shared.http import Api
from shared.settings import Settings

TALKS = ("talk", "admonishment")
"""Results S1 counts as 谈话处理."""
HANDLED_OR_DISCIPLINED = ("organisational_handling", "referral")
"""Results S1 counts as 降职、免职处理和纪律处分: organisational handling, or a referral to the discipline organs."""


class SummaryQuery(PeriodQuery):
    completed_from: date | None = Field(None, description="Audits completed on or after this day.")
    completed_to: date | None = Field(None, description="Audits completed on or before this day.")


class AuditSummary(BaseModel):
    county: str | None
    completed_from: date | None
    completed_to: date | None
    as_of: date | None
    audits: int = Field(description="Audits completed in the period (完成审计, 项).")
    cadres_audited: int = Field(description="Cadres those audits were of (审计对象, 人).")
    by_type: dict[str, int] = Field(description="Audits per type (审计类型): pre_appointment 任前, in_office 任中 "
                                                "(任期), departure 离任.")
    by_evaluation: dict[str, int] = Field(description="Audits per evaluation (审计评价): good 好, fairly_good 较好, "
                                                      "average 一般, poor 较差.")
    findings: int = Field(description="Findings of those audits (发现问题, 个).")
    findings_amount: str = Field(description="Their amount, CNY (问题金额, 元).")
    findings_by_responsibility: dict[str, int] = Field(description="Findings per responsibility (责任类型): direct "
                                                                   "直接责任, leadership 领导责任.")
    findings_rectified: int = Field(description="Findings rectified so far, or by `as_of` (已整改).")
    amount_recovered: str = Field(description="Amount recovered in rectifying them, CNY (整改挽回金额, 元).")
    results: dict[str, int] = Field(description="Audits per result applied so far, or by `as_of` (结果运用): none 无, "
                                                "talk 谈话, admonishment 诫勉, organisational_handling 组织处理, "
                                                "referral 移送.")
    results_pending: int = Field(description="Audits whose result is not applied yet (结果待运用).")
    filed_to_dossier: int = Field(description="Audits whose result is filed to the cadre's dossier (已归档).")
    cadres_talked_to: int = Field(description="Cadres given a talk or an admonishment on an audit's result (谈话处理, "
                                              "人): S1's count.")
    cadres_handled_or_disciplined: int = Field(description="Cadres given organisational handling or referred to the "
                                                           "discipline organs on an audit's result (降职、免职处理和"
                                                           "纪律处分, 人): S1's count.")


# $6: the day the figures are for (date.max: everything recorded); a step taken after it has not happened yet.
_SUMMARY_SQL = """
  WITH a AS (SELECT * FROM rm_audits WHERE completed_on IS NOT NULL AND ($1::text IS NULL OR county = $1)
               AND ($2::date IS NULL OR completed_on >= $2) AND ($3::date IS NULL OR completed_on <= $3)
               AND completed_on <= $6),
       applied AS (SELECT * FROM a WHERE result IS NOT NULL AND result_applied_on <= $6),
       f AS (SELECT f.* FROM rm_audit_findings f JOIN a USING (cadre_id, audit_id)),
       fixed AS (SELECT * FROM f WHERE rectified_on <= $6)
  SELECT (SELECT count(*) FROM a) AS audits, (SELECT count(DISTINCT cadre_id) FROM a) AS cadres_audited,
         (SELECT coalesce(jsonb_object_agg(audit_type, n), '{}') FROM
            (SELECT audit_type, count(*) AS n FROM a GROUP BY audit_type) t)::text AS by_type,
         (SELECT coalesce(jsonb_object_agg(evaluation, n), '{}') FROM
            (SELECT evaluation, count(*) AS n FROM a GROUP BY evaluation) t)::text AS by_evaluation,
         (SELECT coalesce(jsonb_object_agg(result, n), '{}') FROM
            (SELECT result, count(*) AS n FROM applied GROUP BY result) t)::text AS results,
         (SELECT count(*) FROM a) - (SELECT count(*) FROM applied) AS results_pending,
         (SELECT count(*) FROM a WHERE filed_on <= $6) AS filed,
         (SELECT count(DISTINCT cadre_id) FROM applied WHERE result = ANY($4::text[])) AS talked_to,
         (SELECT count(DISTINCT cadre_id) FROM applied WHERE result = ANY($5::text[])) AS handled_or_disciplined,
         (SELECT count(*) FROM f) AS findings, (SELECT coalesce(sum(amount), 0) FROM f) AS findings_amount,
         (SELECT coalesce(jsonb_object_agg(responsibility, n), '{}') FROM
            (SELECT responsibility, count(*) AS n FROM f GROUP BY responsibility) t)::text AS by_responsibility,
         (SELECT count(*) FROM fixed) AS rectified,
         (SELECT coalesce(sum(amount_recovered), 0) FROM fixed) AS recovered"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/audits/summary`."""

    @api.route("GET", "/v1/audits/summary", summary="Audits and how their results were applied (经济责任审计及"
               "结果运用)", query=SummaryQuery, response=AuditSummary, tags=TAGS)
    async def summary(request: web.Request, *, query: SummaryQuery) -> dict[str, Any]:
        """Audits completed in the period (per type and evaluation), their findings (amount, responsibility,
        rectified, recovered), and the results applied on them so far, with the cadres talked to and the cadres
        handled or disciplined, as seed S1 counts them; with `as_of`, as all of it stood at the end of that day."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            r = await conn.fetchrow(_SUMMARY_SQL, query.county, query.completed_from, query.completed_to,
                                    list(TALKS), list(HANDLED_OR_DISCIPLINED), query.as_of or date.max)
        assert r is not None
        return {"county": query.county, "completed_from": query.completed_from, "completed_to": query.completed_to,
                "as_of": query.as_of, "audits": r["audits"], "cadres_audited": r["cadres_audited"],
                "by_type": counts_of(get_args(AuditType), r["by_type"]),
                "by_evaluation": counts_of(get_args(Evaluation), r["by_evaluation"]),
                "findings": r["findings"], "findings_amount": yuan(r["findings_amount"]),
                "findings_by_responsibility": counts_of(get_args(Responsibility), r["by_responsibility"]),
                "findings_rectified": r["rectified"], "amount_recovered": yuan(r["recovered"]),
                "results": counts_of(get_args(AppliedResult), r["results"]), "results_pending": r["results_pending"],
                "filed_to_dossier": r["filed"], "cadres_talked_to": r["talked_to"],
                "cadres_handled_or_disciplined": r["handled_or_disciplined"]}
