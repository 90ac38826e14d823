"""A refusal cites (`basis`, 依据) the documents of the rule set it is decided under, the one in force on the fact's
day: about a 2010 fact the 2002-period documents (431021@2008.3), about a 2020 fact the 2019 条例 and the documents of
2019-2023 (431021@2019.2), never those of today. Given a fact's day, when a rule refuses, then its basis is that
version's `bases` entry of the rule's topic."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from services.assessment.domain import fold as assessment_fold
from services.assessment.domain import grading as g
from services.assessment.domain import selection as sel
from services.audit.domain import audits as a
from services.audit.domain import fold as audit_fold
from services.audit.domain import supervision as s
from services.rotation import domain as rd
from shared.appointment_blockers import appointment_blockers
from shared.problems import RuleViolation
from shared.rulesets import RuleSet, ruleset_by_id, ruleset_for
from tests import audit_support as ad
from tests import supervision_support as sd
from tests.assessment_given import cmd
from tests.rotation_support import promote_cmd, registered, report_received
from tests.support import System, call, registered_cadre

COUNTY = "431021"
TODAY = date(2030, 1, 1)

Refuse = Callable[[str, RuleSet], object]
"""Decide a command dated `day` under `rules` (expected to raise)."""


def _blocker(day: str, rules: RuleSet) -> object:
    found = appointment_blockers([report_received(day)], date.fromisoformat(day), rules.bases)
    raise found[0]


def _later(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


WHEN: list[tuple[str, str, Refuse]] = [
    ("selection", "selection.order", lambda day, rules: sel.decide_vote(assessment_fold([]), cmd(
        sel.Vote, day, selection_id="XB-1", members_entitled=11, members_present=11, votes_for=9, votes_against=2),
        rules)),
    ("appointment", "promotion.notice_cleared", lambda day, rules: rd.decide_assign(
        rd.fold([registered()]), promote_cmd(day, notice_id=None), rules, TODAY)),
    ("blockers", "appointment.unverified_report", _blocker),
    ("grading", "assessment.grade_year_not_begun", lambda day, rules: g.decide_annual_grade(assessment_fold([]), cmd(
        g.AnnualGrade, day, year=date.fromisoformat(day).year + 1, grade="competent"), rules)),
    ("audit", "audit.departure_post", lambda day, rules: a.decide_start(audit_fold([]), ad.start(
        day, period_from="2005-01-01", period_to=_later(day, -30), post_id=None), rules)),
    ("sanction", "sanction.measure_category", lambda day, rules: s.decide_impose_sanction(audit_fold([]), sd.sanction(
        day, category="organisational", measure="serious_warning", effective_from=day,
        effective_until=_later(day, 600)), rules)),
    ("effect_period", "sanction.effect_from_decision", lambda day, rules: s.decide_impose_sanction(
        audit_fold([]), sd.sanction(day, effective_from=_later(day, -10), effective_until=_later(day, 400)), rules)),
]

PERIODS = {
    # day: (version in force, what each topic's basis names in that period)
    "2010-06-01": ("431021@2008.3", {
        "selection": "党政领导干部选拔任用工作条例 (2002)", "appointment": "党政领导干部选拔任用工作条例 (2002)",
        "blockers": "党政领导干部选拔任用工作条例 (2002)", "grading": "公务员考核规定（试行）(2007)",
        "audit": "县级以下党政领导干部任期经济责任审计暂行规定 (1999)", "sanction": "中国共产党纪律处分条例 (2003)",
        "effect_period": "行政机关公务员处分条例 (2007) 第七条"}),
    "2020-06-01": ("431021@2019.2", {
        "selection": "党政领导干部选拔任用工作条例 (2019", "appointment": "党政领导干部选拔任用工作条例 (2019",
        "blockers": "党政领导干部选拔任用工作条例 (2019", "grading": "党政领导干部考核工作条例 (2019)",
        "audit": "经济责任审计规定 (2019)", "sanction": "中国共产党纪律处分条例 (2018)",
        "effect_period": "中国共产党纪律处分条例 (2018) 第十四条"}),
}

_YEAR = re.compile(r"\((\d{4})\b")
"""A document's year as the bases write it: 条例 (2002), 规定 (2014, 2014-01-14 起施行)."""


@pytest.mark.parametrize(("day", "topic", "rule", "when"),
                         [(day, *case) for day in PERIODS for case in WHEN],
                         ids=[f"{day}-{case[0]}" for day in PERIODS for case in WHEN])
def test_a_refusal_cites_the_documents_in_force_on_the_facts_day(day: str, topic: str, rule: str,
                                                                   when: Refuse) -> None:
    version, names = PERIODS[day]
    rules = ruleset_for(COUNTY, date.fromisoformat(day))
    assert rules.id == version
    with pytest.raises(RuleViolation) as caught:
        when(day, rules)
    basis = caught.value.extra["basis"]
    assert caught.value.rule == rule
    assert basis == getattr(rules.bases, topic)
    assert names[topic] in basis, basis
    last = (rules.valid_to - timedelta(days=1)).year if rules.valid_to else TODAY.year
    assert all(int(year) <= last for year in _YEAR.findall(basis)), basis  # nothing issued after the period


async def test_over_http_a_sanction_of_2010_cites_the_2003_regulation_and_one_of_2020_the_2018_one(
        system: System) -> None:
    """The audit service decides each command under the rule set of its day and quotes that version's documents: a
    2010 sanction whose measure is not of its category cites the 纪律处分条例 of 2003, a 2020 one that of 2018, and
    neither the 2023 one in force today; the refusal names the version it quotes (`ruleset`)."""
    cadre = await registered_cadre(system, "BAS")
    for day, version, cited, other in (("2010-06-01", "431021@2008.3", "中国共产党纪律处分条例 (2003)", "(2018)"),
                                       ("2020-06-01", "431021@2019.2", "中国共产党纪律处分条例 (2018)", "(2003)")):
        status, problem, _ = await call("POST", f"{system.url('audit')}/v1/sanctions/CF-{day[:4]}?wait=committed", {
            "cadre_id": cadre, "county": COUNTY, "occurred_on": day, "category": "organisational",
            "measure": "serious_warning", "effective_from": day, "effective_until": _later(day, 600)})
        assert status == 422 and problem["rule"] == "sanction.measure_category", problem
        assert problem["ruleset"] == version and problem["basis"] == ruleset_by_id(version).bases.sanction
        assert cited in problem["basis"] and other not in problem["basis"] and "(2023" not in problem["basis"]
