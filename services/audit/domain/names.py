"""The Chinese names of the audit service's codes in its messages: a clerk reads 离任审计, not `departure`. They are
the names the auditor page gives the same codes (services/ledger/web/i18n.js, CODES_ZH); a test keeps them alike."""

from __future__ import annotations

AUDIT_TYPE_ZH = {"pre_appointment": "任前审计", "in_office": "任中审计", "departure": "离任审计"}
CATEGORY_ZH = {"party": "党纪处分", "administrative": "政务处分", "organisational": "组织处理"}
MEASURE_ZH = {
    "warning": "警告", "serious_warning": "严重警告", "removal_from_party_post": "撤销党内职务",
    "party_probation": "留党察看", "expulsion_from_party": "开除党籍", "demerit": "记过", "major_demerit": "记大过",
    "demotion_in_rank": "降级", "dismissal_from_post": "撤职", "expulsion": "开除", "suspension": "停职检查",
    "job_adjustment": "调整职务", "ordered_resignation": "责令辞职", "removal": "免职", "demotion": "降职",
}
RESULT_ZH = {"none": "无", "talk": "谈话", "admonishment": "诫勉", "organisational_handling": "组织处理",
             "referral": "移送纪检监察"}
OUTCOME_ZH = {"unfounded": "不属实", "partly": "部分属实", "verified": "属实"}


def named_zh(names: dict[str, str], code: str) -> str:
    """A code in a Chinese message: its name, the code beside it for whoever looks it up (离任审计 (departure))."""
    return f"{names[code]} ({code})"
