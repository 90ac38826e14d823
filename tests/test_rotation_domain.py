"""Table tests of the rotation rules: given events / when a command / then an event or a violation.

No servers: the pure decide functions of services/rotation/domain/ on events built like the ledger's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from services.assessment.domain import AssessmentState, grading
from services.rotation import commands as c
from services.rotation import domain
from services.rotation.domain import RotationState
from shared.decisions import Decision
from shared.envelope import CloudEvent
from shared.events.registry import CATALOGUE
from shared.problems import RECORD_KEEPING, RuleViolation
from shared.rulesets import ruleset_by_id
from tests.rotation_support import (
    CADRE,
    COUNTY,
    PROMOTED,
    D,
    assign_cmd,
    assigned,
    conclude_cmd,
    defer_cmd,
    deferred,
    due,
    ev,
    foreign,
    leader,
    notice_closed,
    promote_cmd,
    raise_cmd,
    register_cmd,
    registered,
    report_received,
    report_verified,
    rotate_cmd,
    vacate_cmd,
    vacated,
)

LOCAL = ruleset_by_id("431021@2008.1")
NATIONAL = ruleset_by_id("000000@2019.1")
TODAY = D("2030-01-01")


@dataclass(frozen=True)
class Case:
    """given events, when a command (a decide call on the folded state), then an event type or a rule id."""

    name: str
    given: list[CloudEvent]
    when: Callable[[RotationState], Decision]
    then: str
    data: dict[str, Any] = field(default_factory=dict)
    occurred_on: str | None = None
    violation: bool | None = None
    """True when `then` is a rule id that is also an event type (appointment.qualification_cancelled)."""


def at(day: str) -> date:
    return D(day)


REG = registered()

# a selection for 副县长 whose qualification was cancelled (取消任职资格) during its notice N0
N0_POSTED = foreign("notice.posted", "2019-02-11", "assessment", notice_id="N0", selection_id="S0",
                    proposed_post="副县长", start="2019-02-11", end="2019-02-15", working_days=5, channels=["网站"])
N1_POSTED = foreign("notice.posted", "2020-02-10", "assessment", notice_id="N1", selection_id="S1",
                    proposed_post="副县长", start="2020-02-10", end="2020-02-14", working_days=5, channels=["网站"])
SANCTION_2020 = foreign("sanction.imposed", "2019-06-01", "audit", sanction_id="S1", category="party", measure="警告",
                        effective_from="2019-06-01", effective_until="2020-06-01")
N0_CANCELLED = foreign("appointment.qualification_cancelled", "2019-02-21", "assessment", notice_id="N0",
                       reason="举报属实")

# the assessment service's 基本称职 grade of 2023, decided under the rule set (its promotion_block_years)
BASICALLY_2023 = foreign("assessment.annual_graded", "2024-01-15", "assessment", **grading.decide_annual_grade(
    AssessmentState(), grading.AnnualGrade(cadre_id=CADRE, county=COUNTY, occurred_on=D("2024-01-15"), year=2023,
                                           grade="basically_competent"), LOCAL).data.model_dump(mode="json"))

CLERK = [REG, assigned("2010-01-01")]
SECTION_LEAD: dict[str, Any] = {"post": "镇长", "level": "section", "leadership": True}
TOWNSHIP_DEPUTY: dict[str, Any] = {"post": "副镇长", "unit": "樟市镇人民政府", "township": "樟市镇",
                                   "level": "deputy_section", "principal": False}

REGISTRATION = [
    Case("a new cadre is registered with commitments only", [],
         lambda s: domain.decide_register(s, register_cmd(), TODAY), "cadre.registered",
         {"name_commitment": "a" * 64, "sex": "female", "commitment_scheme": "sha256-salted-v1"}),
    Case("a cadre is registered once", [REG], lambda s: domain.decide_register(s, register_cmd(), TODAY),
         "cadre.register_once"),
    Case("no registration before the day it happens", [],
         lambda s: domain.decide_register(s, register_cmd("2030-01-02"), TODAY), "command.not_in_future"),
]

def erase_cmd(on: str = "2024-05-01") -> c.Erasure:
    return c.Erasure(cadre_id=CADRE, county=COUNTY, occurred_on=D(on), reason="本人申请删除",
                     reference="桂组〔2024〕12号")


ERASED = ev("person.erased", "2024-05-01", reason="本人申请删除", reference="桂组〔2024〕12号")

ERASURE = [
    Case("a registered cadre's personal data is erased with reason and reference", [REG],
         lambda s: domain.decide_erase(s, erase_cmd(), TODAY), "person.erased",
         {"reason": "本人申请删除", "reference": "桂组〔2024〕12号"}, occurred_on="2024-05-01"),
    Case("erasure happens once", [REG, ERASED], lambda s: domain.decide_erase(s, erase_cmd(), TODAY),
         "person.erase_once"),
    Case("nothing to erase for an unregistered cadre", [], lambda s: domain.decide_erase(s, erase_cmd(), TODAY),
         "cadre.registered_first"),
]

POSTINGS = [
    Case("a principal's post (正职) is recorded as one", [REG],
         lambda s: domain.decide_assign(s, assign_cmd("2010-01-01", **SECTION_LEAD, principal=True), LOCAL, TODAY),
         "post.assigned", {"post": "镇长", "principal": True, "leadership": True}),
    Case("... a deputy's (副职) as one", [REG],
         lambda s: domain.decide_assign(s, assign_cmd("2010-01-01", post="副镇长", level="deputy_section",
                                                      leadership=True, principal=False), LOCAL, TODAY),
         "post.assigned", {"principal": False}),
    Case("only a leadership post is a principal's", [REG],
         lambda s: domain.decide_assign(s, assign_cmd("2010-01-01", principal=True), LOCAL, TODAY),
         "posting.principal_needs_leadership"),
    Case("an unregistered cadre takes no post", [], lambda s: domain.decide_assign(s, assign_cmd("2010-01-01"),
                                                                                   LOCAL, TODAY),
         "cadre.registered_first"),
    Case("a lateral posting in a township: tenure counts from the decision date", [REG],
         lambda s: domain.decide_assign(s, assign_cmd("2010-01-01"), LOCAL, TODAY), "post.assigned",
         {"post_id": "P2", "township": "樟市镇", "decision_date": "2010-01-01", "kind": "lateral"}, "2010-01-01"),
    Case("a post already held cannot be taken again", [REG, assigned("2010-01-01", "P2")],
         lambda s: domain.decide_assign(s, assign_cmd("2011-01-01"), LOCAL, TODAY), "posting.already_held"),
    Case("no posting before the day it is decided", [REG],
         lambda s: domain.decide_assign(s, assign_cmd("2030-01-02"), LOCAL, TODAY), "command.not_in_future"),
    Case("a promotion without notice or exemption is refused", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", notice_id=None), LOCAL, TODAY),
         "promotion.notice_cleared"),
    Case("a promotion with a recorded exemption starts a 12-month probation", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", notice_id=None, exemption_reason="换届选举"),
                                        LOCAL, TODAY),
         "post.assigned", {"probation_end": "2021-03-01", "exemption_reason": "换届选举"}),
    Case("a promotion after a notice closed as clear", [REG, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned",
         {"notice_id": "N1", "kind": "promotion", "probation_end": "2021-03-01"}),
    Case("a notice closed with a reminder also clears", [REG, notice_closed("2020-02-20",
                                                                            outcome="minor_issue_reminded")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned"),
    Case("a notice closed as deferred does not clear", [REG, notice_closed("2020-02-20", outcome="deferred")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "promotion.notice_cleared"),
    Case("a notice closed after the decision does not clear", [REG, notice_closed("2020-03-02")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "promotion.notice_cleared"),
    Case("a notice serves one appointment", [REG, notice_closed("2020-02-20"),
                                             assigned("2020-03-01", "L1", kind="promotion", notice_id="N1",
                                                      level="deputy_section", leadership=False)],
         lambda s: domain.decide_assign(s, promote_cmd("2021-03-01"), LOCAL, TODAY), "promotion.notice_cleared"),
    Case("an unverified report blocks a promotion", [REG, notice_closed("2020-02-20"),
                                                     report_received("2020-02-25")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY),
         "appointment.unverified_report"),
    Case("a verified report no longer blocks", [REG, notice_closed("2020-02-20"), report_received("2020-02-01"),
                                                report_verified("2020-02-25")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned"),
    Case("a running sanction blocks a promotion",
         [REG, notice_closed("2020-02-20"),
          foreign("sanction.imposed", "2019-06-01", "audit", sanction_id="S1", category="party", measure="警告",
                  effective_from="2019-06-01", effective_until="2020-06-01")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "appointment.sanction_running"),
    Case("a running appointment deferral blocks a promotion",
         [REG, notice_closed("2020-02-20"),
          foreign("appointment.deferred", "2020-02-21", "assessment", notice_id="N0", until="2020-05-21")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "appointment.deferral_running"),
    Case("an appointment deferral still blocks on its until day (缓任至, the last day)",
         [REG, notice_closed("2020-02-20"),
          foreign("appointment.deferred", "2019-12-01", "assessment", notice_id="N0", until="2020-03-01")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "appointment.deferral_running"),
    Case("an appointment deferral no longer blocks the day after its until day",
         [REG, notice_closed("2020-02-20"),
          foreign("appointment.deferred", "2019-12-01", "assessment", notice_id="N0", until="2020-02-29")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned"),
    Case("a qualification cancelled for another appointment does not block this one",
         [REG, N0_POSTED, N0_CANCELLED, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="县政府办公室主任"), LOCAL, TODAY),
         "post.assigned", {"notice_id": "N1"}),
    Case("a cancelled qualification blocks the appointment under its notice",
         [REG, N0_POSTED, notice_closed("2019-02-20", "N0"), N0_CANCELLED],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", notice_id="N0"), LOCAL, TODAY),
         "appointment.qualification_cancelled", violation=True),
    Case("... and an appointment to the post its notice proposed, exempted from a notice",
         [REG, N0_POSTED, N0_CANCELLED],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", notice_id=None, exemption_reason="换届选举"),
                                        LOCAL, TODAY), "appointment.qualification_cancelled", violation=True),
    # rule 1: a notice makes one appointment public, to the post it proposed
    Case("a promotion under its notice to the post it proposed (title spaced and full-width alike)",
         [REG, N1_POSTED, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post=" 副 县长"), LOCAL, TODAY),
         "post.assigned", {"notice_id": "N1"}),
    Case("a notice does not clear a promotion to another post", [REG, N1_POSTED, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="县长"), LOCAL, TODAY),
         "posting.notice_post_matches"),
    Case("... nor a lateral posting to another post that names it",
         [REG, assigned("2015-01-01", "L1", post="县政府办公室主任", unit="桂阳县人民政府", township=None,
                        level="deputy_division", leadership=True), N1_POSTED, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L2", notice_id="N1", post="县发改局局长",
                                                      unit="桂阳县发改局", township=None, level="deputy_division",
                                                      leadership=True), LOCAL, TODAY),
         "posting.notice_post_matches"),
    # rule 3 beyond promotions: a posting made through a selection meets every blocker, any other posting those
    # bound to its post
    Case("a running sanction does not bar a lateral posting (受处分期间不得晋升职务)",
         [REG, assigned("2015-01-01"), SANCTION_2020],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned"),
    Case("... but it bars one made through a selection (its notice named: 进一步使用)",
         [REG, N1_POSTED, notice_closed("2020-02-20"), SANCTION_2020],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L2", notice_id="N1", post="副县长",
                                                      unit="桂阳县人民政府", township=None), LOCAL, TODAY),
         "appointment.sanction_running"),
    Case("a lateral posting to the post whose qualification was cancelled, without a notice",
         [REG, N0_POSTED, N0_CANCELLED],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L2", post="副县长", unit="桂阳县人民政府",
                                                      township=None), LOCAL, TODAY),
         "appointment.qualification_cancelled", violation=True),
    Case("basically competent last year bars a promotion this year (rule 6)", [REG, BASICALLY_2023],
         lambda s: domain.decide_assign(s, promote_cmd("2024-03-01", notice_id=None, exemption_reason="换届选举"),
                                        LOCAL, TODAY), "assessment.promotion_blocked"),
    Case("... but not a lateral posting", [REG, BASICALLY_2023],
         lambda s: domain.decide_assign(s, assign_cmd("2024-03-01"), LOCAL, TODAY), "post.assigned"),
    Case("... and not a promotion once the rule set's barred years are over", [REG, BASICALLY_2023],
         lambda s: domain.decide_assign(s, promote_cmd(f"{2024 + LOCAL.assessment.promotion_block_years}-01-02",
                                                       notice_id=None, exemption_reason="换届选举"), LOCAL, TODAY),
         "post.assigned"),
    Case("no promotion during probation", [*PROMOTED, notice_closed("2020-12-01", "N1")],
         lambda s: domain.decide_assign(s, promote_cmd("2021-01-01", "L3", level="division"), LOCAL, TODAY),
         "promotion.not_during_probation"),
    Case("a promotion after the probation is concluded",
         [*PROMOTED, foreign("probation.concluded", "2021-03-01", "rotation", post_id="L2", outcome="confirmed"),
          notice_closed("2023-01-01", "N1")],
         lambda s: domain.decide_assign(s, promote_cmd("2023-02-01", "L3", level="division"), LOCAL, TODAY),
         "post.assigned"),
    Case("a promotion must raise the rank", [REG, notice_closed("2020-02-20"),
                                             assigned("2019-01-01", level="deputy_division")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01"), LOCAL, TODAY), "posting.kind_matches_level"),
    Case("a demotion must lower the rank", [REG, assigned("2019-01-01", level="section")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", kind="demotion", level="division"), LOCAL, TODAY),
         "posting.kind_matches_level"),
    # rule 1, 3, 4: a posting that raises the cadre's rank is a promotion whatever its kind
    Case("a lateral posting cannot raise the rank", CLERK,
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", **SECTION_LEAD), LOCAL, TODAY),
         "posting.kind_matches_level"),
    Case("a posting by rotation cannot raise the rank", CLERK,
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="rotation", **SECTION_LEAD), LOCAL,
                                        TODAY), "posting.kind_matches_level"),
    Case("a lateral posting back up after a demotion is a promotion too",
         [REG, leader("2015-01-01"), vacated("2018-01-01", "L1", "demotion"),
          assigned("2018-01-01", "P3", kind="demotion")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", **SECTION_LEAD), LOCAL, TODAY),
         "posting.kind_matches_level"),
    Case("the rank is the highest the cadre holds, not the last posting's",
         [REG, leader("2015-01-01"), assigned("2016-01-01", "P3")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", **SECTION_LEAD), LOCAL, TODAY),
         "post.assigned", {"kind": "lateral"}),
    Case("a lateral posting at the same rank", CLERK,
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01"), LOCAL, TODAY), "post.assigned",
         {"kind": "lateral"}),
    Case("an election that raises the rank needs a cleared notice or an exemption", CLERK,
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", **SECTION_LEAD), LOCAL,
                                        TODAY), "promotion.notice_cleared"),
    Case("an election that raises the rank, after a cleared notice, starts no probation (非选举产生的职务 only)",
         [*CLERK, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", notice_id="N1",
                                                      **SECTION_LEAD), LOCAL, TODAY),
         "post.assigned", {"kind": "election", "notice_id": "N1", "probation_end": None}),
    Case("an election that raises the rank is held to the blockers",
         [*CLERK, notice_closed("2020-02-20"), report_received("2020-02-25")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", notice_id="N1",
                                                      **SECTION_LEAD), LOCAL, TODAY),
         "appointment.unverified_report"),
    Case("... and to a 基本称职 grade (rule 6)", [*CLERK, BASICALLY_2023],
         lambda s: domain.decide_assign(s, assign_cmd("2024-03-01", "L5", kind="election", exemption_reason="换届选举",
                                                      **SECTION_LEAD), LOCAL, TODAY),
         "assessment.promotion_blocked"),
    Case("... and not during a probation", [*PROMOTED, notice_closed("2020-12-01")],
         lambda s: domain.decide_assign(s, assign_cmd("2021-01-01", "L5", kind="election", notice_id="N1",
                                                      **{**SECTION_LEAD, "level": "division"}), LOCAL, TODAY),
         "promotion.not_during_probation"),
    Case("an election at the same rank is no promotion: no notice, no probation", [REG, leader("2015-01-01")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", **SECTION_LEAD), LOCAL,
                                        TODAY), "post.assigned", {"kind": "election", "probation_end": None}),
    Case("a promotion to a department's principal post (局长, 正职) starts no probation: 第四十三条 lists 副职",
         [REG], lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="局长", unit="桂阳县审计局",
                                                              principal=True, notice_id=None,
                                                              exemption_reason="换届"), LOCAL, TODAY),
         "post.assigned", {"principal": True, "probation_end": None}),
    Case("... nor a township's secretary (乡镇党委书记, 正职)", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="乡镇党委书记", unit="中共樟市镇委员会",
                                                       township="樟市镇", level="section", principal=True,
                                                       notice_id=None, exemption_reason="换届"), LOCAL, TODAY),
         "post.assigned", {"principal": True, "probation_end": None}),
    Case("a promotion to an internal unit's principal post (内设机构领导职务) starts a probation", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="办公室主任", unit="桂阳县审计局",
                                                       level="section", principal=True, internal_unit=True,
                                                       notice_id=None, exemption_reason="换届"), LOCAL, TODAY),
         "post.assigned", {"principal": True, "internal_unit": True, "probation_end": "2021-03-01"}),
    Case("a promotion to a deputy's post (副职) starts a probation", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", post="副局长", unit="桂阳县审计局",
                                                       principal=False, notice_id=None, exemption_reason="换届"),
                                        LOCAL, TODAY),
         "post.assigned", {"principal": False, "probation_end": "2021-03-01"}),
    Case("a promotion to an elected township deputy's post (副镇长, 选举产生) starts no probation: 第四十三条 is for "
         "非选举产生的领导职务", [REG, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", **TOWNSHIP_DEPUTY, elected=True), LOCAL, TODAY),
         "post.assigned", {"kind": "promotion", "elected": True, "principal": False, "notice_id": "N1",
                           "probation_end": None}),
    Case("... nor to a township Party committee's deputy secretary (乡镇党委副书记), elected", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", **{**TOWNSHIP_DEPUTY, "post": "党委副书记",
                                                                        "unit": "中共樟市镇委员会"},
                                                       elected=True, notice_id=None, exemption_reason="换届"),
                                        LOCAL, TODAY),
         "post.assigned", {"elected": True, "probation_end": None}),
    Case("the same post not stated to be elected keeps the probation (the stricter reading)",
         [REG, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", **TOWNSHIP_DEPUTY), LOCAL, TODAY),
         "post.assigned", {"elected": None, "probation_end": "2021-03-01"}),
    Case("... and so does one stated to be filled by appointment (elected: false, 委任)",
         [REG, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", **TOWNSHIP_DEPUTY, elected=False), LOCAL, TODAY),
         "post.assigned", {"elected": False, "probation_end": "2021-03-01"}),
    Case("a promotion to an elected post is still a promotion: a cleared notice or an exemption", [REG],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", **TOWNSHIP_DEPUTY, elected=True, notice_id=None),
                                        LOCAL, TODAY), "promotion.notice_cleared"),
    Case("... and not during a probation", [*PROMOTED, notice_closed("2020-12-01")],
         lambda s: domain.decide_assign(s, promote_cmd("2021-01-01", "L6", **{**TOWNSHIP_DEPUTY, "post": "镇长",
                                                                              "level": "division"}, elected=True),
                                        LOCAL, TODAY), "promotion.not_during_probation"),
    Case("an election records its post as elected", [REG, leader("2015-01-01")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", **SECTION_LEAD), LOCAL,
                                        TODAY), "post.assigned", {"kind": "election", "elected": True}),
    Case("an election to a post stated not to be elected is refused", [REG, leader("2015-01-01")],
         lambda s: domain.decide_assign(s, assign_cmd("2020-03-01", "L5", kind="election", elected=False,
                                                      **SECTION_LEAD), LOCAL, TODAY),
         "posting.election_to_elected_post"),
    Case("a promotion to a non-leadership rank has no probation", [REG, notice_closed("2020-02-20")],
         lambda s: domain.decide_assign(s, promote_cmd("2020-03-01", leadership=False, level="deputy_section"),
                                        LOCAL, TODAY), "post.assigned", {"kind": "promotion"}),
    Case("a posting by rotation is refused during probation", PROMOTED,
         lambda s: domain.decide_assign(s, assign_cmd("2020-06-01", kind="rotation"), LOCAL, TODAY),
         "rotation.not_during_probation"),
    Case("a held post is vacated", [REG, assigned("2010-01-01")],
         lambda s: domain.decide_vacate(s, vacate_cmd("2015-01-01"), TODAY), "post.vacated", {"post_id": "P1"}),
    Case("a post not held cannot be vacated", [REG], lambda s: domain.decide_vacate(s, vacate_cmd("2015-01-01"),
                                                                                    TODAY), "posting.not_held"),
    Case("a post is not vacated before it was taken", [REG, assigned("2010-01-01")],
         lambda s: domain.decide_vacate(s, vacate_cmd("2009-12-31"), TODAY), "posting.not_held"),
]

PROBATION = [
    Case("probation is not concluded the day before its end", PROMOTED,
         lambda s: domain.decide_conclude_probation(s, conclude_cmd("2021-02-28"), LOCAL, TODAY),
         "probation.before_end"),
    Case("probation is concluded on the day it ends", PROMOTED,
         lambda s: domain.decide_conclude_probation(s, conclude_cmd("2021-03-01"), LOCAL, TODAY), "probation.concluded",
         {"outcome": "confirmed"}),
    Case("removal also waits for the end", PROMOTED,
         lambda s: domain.decide_conclude_probation(s, conclude_cmd("2020-09-01", outcome="removed"), LOCAL, TODAY),
         "probation.before_end"),
    Case("probation ended early, with a reason", PROMOTED,
         lambda s: domain.decide_conclude_probation(
             s, conclude_cmd("2020-09-01", outcome="ended_early", reason="机构改革, 职位撤销"), LOCAL, TODAY),
         "probation.concluded", {"outcome": "ended_early"}),
    Case("probation ended early needs a reason", PROMOTED,
         lambda s: domain.decide_conclude_probation(s, conclude_cmd("2020-09-01", outcome="ended_early"), LOCAL, TODAY),
         "probation.early_end_reason"),
    Case("a post without probation has none to conclude", [REG, assigned("2010-01-01", "L2")],
         lambda s: domain.decide_conclude_probation(s, conclude_cmd("2011-01-01"), LOCAL, TODAY), "probation.none"),
]

TOWNSHIP = [REG, assigned("2016-03-01")]
LEAP = [REG, assigned("2016-02-29")]

DUE = [
    Case("8 years in a township: not due the day before", TOWNSHIP,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2024-02-29")), "rotation.not_yet_due"),
    Case("8 years in a township: due on the day it completes", TOWNSHIP,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2024-03-01")), "rotation.due",
         {"rule": "township_8y", "since": "2016-03-01", "years": 8, "due_on": "2024-03-01",
          "overdue_on": "2024-09-01"}, "2024-03-01"),
    Case("history loaded after the fact: due on the past day the limit was reached", TOWNSHIP,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2029-06-30")), "rotation.due",
         {"due_on": "2024-03-01"}, "2024-03-01"),
    Case("due once per post and rule", [*TOWNSHIP, due("P1", "township_8y", "2016-03-01", 8, "2024-03-01",
                                                       "2024-09-01")],
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2025-01-01")), "rotation.due_once"),
    Case("started 29 Feb 2016: 8 years end 29 Feb 2024 (leap), not the day before", LEAP,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2024-02-28")), "rotation.not_yet_due"),
    Case("started 29 Feb 2016: due 29 Feb 2024", LEAP,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2024-02-29")), "rotation.due",
         {"due_on": "2024-02-29"}),
    Case("started 29 Feb 2016: 10 years end 28 Feb 2026 (common year), not the 27th",
         [REG, leader("2016-02-29")], lambda s: domain.decide_due(s, raise_cmd("L1", "leader_same_post_10y"), LOCAL,
                                                                  at("2026-02-27")), "rotation.not_yet_due"),
    Case("started 29 Feb 2016: 10 years reached on 28 Feb 2026", [REG, leader("2016-02-29")],
         lambda s: domain.decide_due(s, raise_cmd("L1", "leader_same_post_10y"), LOCAL, at("2026-02-28")),
         "rotation.due", {"rule": "leader_same_post_10y", "years": 10, "due_on": "2026-02-28"}),
    Case("a leader: 10 years in the same post, not the day before", [REG, leader("2012-07-15")],
         lambda s: domain.decide_due(s, raise_cmd("L1", "leader_same_post_10y"), LOCAL, at("2022-07-14")),
         "rotation.not_yet_due"),
    Case("a leader: 10 years in the same post", [REG, leader("2012-07-15")],
         lambda s: domain.decide_due(s, raise_cmd("L1", "leader_same_post_10y"), LOCAL, at("2022-07-15")),
         "rotation.due", {"due_on": "2022-07-15"}),
    Case("an internal-unit leader: 10 years", [REG, leader("2012-07-15", internal_unit=True, township=None)],
         lambda s: domain.decide_due(s, raise_cmd("L1", "internal_unit_10y"), LOCAL, at("2022-07-15")),
         "rotation.due", {"rule": "internal_unit_10y"}),
    Case("an internal-unit leader is not under the general leader rule",
         [REG, leader("2012-07-15", internal_unit=True, township=None)],
         lambda s: domain.decide_due(s, raise_cmd("L1", "leader_same_post_10y"), LOCAL, at("2022-07-15")),
         "rotation.rule_not_applicable"),
    Case("a sensitive post: 10 years", [REG, assigned("2012-07-15", sensitive=True, township=None)],
         lambda s: domain.decide_due(s, raise_cmd("P1", "sensitive_post_10y"), LOCAL, at("2022-07-15")),
         "rotation.due", {"rule": "sensitive_post_10y"}),
    Case("the township rule is for general cadres, not leaders", [REG, leader("2012-07-15")],
         lambda s: domain.decide_due(s, raise_cmd("L1", "township_8y"), LOCAL, at("2022-07-15")),
         "rotation.rule_not_applicable"),
    Case("the national rule set has no township limit", TOWNSHIP,
         lambda s: domain.decide_due(s, raise_cmd(), NATIONAL, at("2026-01-01")), "rotation.rule_not_applicable"),
    Case("township tenure continues across posts of the same township",
         [REG, assigned("2012-05-01"), vacated("2015-05-01"), assigned("2015-05-01", "P2")],
         lambda s: domain.decide_due(s, raise_cmd("P2"), LOCAL, at("2020-05-01")), "rotation.due",
         {"since": "2012-05-01", "due_on": "2020-05-01"}),
    Case("a gap restarts township tenure",
         [REG, assigned("2012-05-01"), vacated("2015-05-01"), assigned("2015-06-01", "P2")],
         lambda s: domain.decide_due(s, raise_cmd("P2"), LOCAL, at("2020-05-01")), "rotation.not_yet_due"),
    Case("no due for a post left", [*TOWNSHIP, vacated("2020-01-01")],
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2025-01-01")), "posting.not_held"),
]

DUE_P1 = due("P1", "township_8y", "2016-03-01", 8, "2024-03-01", "2024-09-01")

DEFERRAL = [
    Case("a deferral without approval reference is refused, naming the rule", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-12-31", approval=None), LOCAL, TODAY),
         "rotation.deferral_approval_required"),
    Case("a blank approval reference is no approval", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-12-31", approval="  "), LOCAL, TODAY),
         "rotation.deferral_approval_required"),
    Case("an approved deferral", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-12-31"), LOCAL, TODAY), "rotation.deferred",
         {"until": "2024-12-31", "approval_reference": "桂组干〔2024〕3号"}),
    Case("only a due rotation can be deferred", TOWNSHIP,
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-12-31"), LOCAL, TODAY),
         "rotation.deferral_needs_due"),
    Case("a deferral dated before the rotation fell due defers nothing", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-02-29", "2024-12-31"), LOCAL, TODAY),
         "rotation.deferral_needs_due", {"due_on": "2024-03-01"}),
    Case("a deferral on the day the rotation falls due", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-01", "2024-12-31"), LOCAL, TODAY), "rotation.deferred"),
    Case("a deferral lasts at most 12 months (rule set)", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2025-03-11"), LOCAL, TODAY),
         "rotation.deferral_until"),
    Case("a deferral of exactly 12 months", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2025-03-10"), LOCAL, TODAY), "rotation.deferred"),
    Case("a deferral ends after the day it is decided", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-03-10"), LOCAL, TODAY),
         "rotation.deferral_until"),
]

# The posting's day corrected from 2016-03-01 to 2017-03-01 after the scan recorded its due: the effective
# history holds the corrected posting where the first stood, then the due, which rests on the old start.
CORRECTED_START = [REG, assigned("2017-03-01"), DUE_P1]
STALE_DUE = [
    Case("a due whose tenure start was corrected away is no due: nothing to defer", CORRECTED_START,
         lambda s: domain.decide_defer(s, defer_cmd("2024-03-10", "2024-12-31"), LOCAL, TODAY),
         "rotation.deferral_needs_due"),
    Case("... nor a trigger for a rotation", CORRECTED_START,
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01", trigger="township_8y"), LOCAL, TODAY),
         "rotation.trigger_not_due"),
    Case("... and the scan records the due of the corrected start when it comes", CORRECTED_START,
         lambda s: domain.decide_due(s, raise_cmd(), LOCAL, at("2025-03-01")), "rotation.due",
         {"since": "2017-03-01", "due_on": "2025-03-01"}),
]

ROTATION = [
    Case("a rotation's new post is a principal's only if it is a leadership post", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01", principal=True), LOCAL, TODAY),
         "posting.principal_needs_leadership"),
    Case("a due township rotation completes: old post left, new one taken, trigger the due rule",
         [*TOWNSHIP, DUE_P1], lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01"), LOCAL, TODAY),
         "rotation.completed", {"from_post_id": "P1", "trigger_rule": "township_8y", "years_in_old_post": 8,
                                "decision_date": "2024-05-01", "from_township": "樟市镇"}),
    Case("a rotation without a due rule is by need", TOWNSHIP,
         lambda s: domain.decide_complete(s, rotate_cmd("2020-05-01"), LOCAL, TODAY), "rotation.completed",
         {"trigger_rule": "by_need", "years_in_old_post": 4}),
    Case("a rotation to the post whose qualification was cancelled", [*TOWNSHIP, N0_POSTED, N0_CANCELLED],
         lambda s: domain.decide_complete(s, rotate_cmd("2020-05-01", post="副县长", unit="桂阳县人民政府",
                                                        township=None), LOCAL, TODAY),
         "appointment.qualification_cancelled", violation=True),
    Case("a named trigger must be due", TOWNSHIP,
         lambda s: domain.decide_complete(s, rotate_cmd("2020-05-01", trigger="township_8y"), LOCAL, TODAY),
         "rotation.trigger_not_due"),
    Case("after 8 years in a township the rotation leaves it", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01", township="樟市镇"), LOCAL, TODAY),
         "rotation.same_township"),
    Case("a rotation is not a promotion", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01", level="section"), LOCAL, TODAY),
         "rotation.no_promotion"),
    Case("... measured against the highest post held, as for any posting: from a concurrent lower post to the "
         "rank the cadre holds", [*TOWNSHIP, leader("2018-01-01")],
         lambda s: domain.decide_complete(s, rotate_cmd("2020-05-01", level="section"), LOCAL, TODAY),
         "rotation.completed",
         {"from_post_id": "P1"}),
    Case("a rotation leads to another post", [*TOWNSHIP, DUE_P1],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01", to_post_id="P1"), LOCAL, TODAY),
         "rotation.same_post"),
    Case("no rotation during probation", [*PROMOTED, assigned("2016-01-01")],
         lambda s: domain.decide_complete(s, rotate_cmd("2020-06-01"), LOCAL, TODAY), "rotation.not_during_probation"),
    Case("no rotation while under investigation", [*TOWNSHIP, DUE_P1, report_received("2024-04-01")],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01"), LOCAL, TODAY), "rotation.under_investigation"),
    Case("a verified report ends the investigation", [*TOWNSHIP, DUE_P1, report_received("2024-04-01"),
                                                      report_verified("2024-04-20", outcome="partly")],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01"), LOCAL, TODAY), "rotation.completed"),
    Case("a rotation of a post not held", [REG],
         lambda s: domain.decide_complete(s, rotate_cmd("2024-05-01"), LOCAL, TODAY),
         "posting.not_held"),
]


RECORD_KEEPING_RULES = frozenset({
    "cadre.register_once", "cadre.registered_first", "command.not_in_future", "person.erase_once",
    "posting.already_held", "posting.not_held", "posting.principal_needs_leadership", "probation.none",
    "posting.election_to_elected_post",
    "rotation.deferral_needs_due", "rotation.due_once"})
"""Rules that keep the record consistent; every other refusal cites a regulation or source document (依据)."""


@pytest.mark.parametrize("case", [*REGISTRATION, *ERASURE, *POSTINGS, *PROBATION, *DUE, *DEFERRAL, *STALE_DUE,
                                  *ROTATION],
                         ids=lambda c: c.name)
def test_rule(case: Case) -> None:
    state = domain.fold(case.given)
    expects_violation = case.violation if case.violation is not None else case.then not in CATALOGUE
    if not expects_violation:
        decision = case.when(state)
        assert decision.type == case.then
        data = decision.data.model_dump(mode="json", exclude_none=True)
        assert {k: data.get(k) for k in case.data} == case.data
        if case.occurred_on:
            assert decision.occurred_on == D(case.occurred_on)
    else:
        with pytest.raises(RuleViolation) as caught:
            case.when(state)
        violation = caught.value
        assert violation.rule == case.then
        assert violation.status == 422
        assert violation.extra["message_en"] and violation.extra["message_zh"]
        assert (violation.extra["basis"] == RECORD_KEEPING) == (case.then in RECORD_KEEPING_RULES)
        assert violation.extra["basis"]


def test_due_event_id_is_deterministic_per_cadre_post_rule_and_tenure() -> None:
    state = domain.fold(TOWNSHIP)
    first = domain.decide_due(state, raise_cmd(), LOCAL, at("2024-03-01"))
    again = domain.decide_due(state, raise_cmd(), LOCAL, at("2025-07-01"))
    assert first.event_id is not None and first.event_id == again.event_id
    other_tenure = domain.fold([REG, assigned("2016-03-02")])
    assert domain.decide_due(other_tenure, raise_cmd(), LOCAL, at("2025-07-01")).event_id != first.event_id
    assert domain.due_event_id(CADRE, "P1", "township_8y", D("2016-03-01")) == first.event_id


def test_appointment_refusals_cite_the_articles_of_notice_and_probation() -> None:
    """选拔任用工作条例 (2019): 第四十二条 任职前公示制度, 第四十三条 任职试用期制度 (not 第五十二条, 第五十四条)."""
    with pytest.raises(RuleViolation) as no_notice:
        domain.decide_assign(domain.fold([REG]), promote_cmd("2020-03-01", notice_id=None), LOCAL, TODAY)
    with pytest.raises(RuleViolation) as early:
        domain.decide_conclude_probation(domain.fold(PROMOTED), conclude_cmd("2021-02-28"), LOCAL, TODAY)
    for caught in (no_notice, early):
        basis = caught.value.extra["basis"]
        assert "第四十二条 (任职前公示制度)" in basis and "第四十三条 (任职试用期制度)" in basis, basis
        assert "第五十" not in basis


def test_promotion_blockers_are_all_named() -> None:
    state = domain.fold([REG, notice_closed("2020-02-20"), report_received("2020-02-01", "R1"),
                         report_received("2020-02-02", "R2")])
    with pytest.raises(RuleViolation) as caught:
        domain.decide_assign(state, promote_cmd("2020-03-01"), LOCAL, TODAY)
    assert caught.value.extra["blockers"] == ["appointment.unverified_report", "appointment.unverified_report"]


# ---- evolve -----------------------------------------------------------------------------------


def test_evolve_a_completed_rotation_moves_the_cadre() -> None:
    decision = domain.decide_complete(domain.fold([*TOWNSHIP, DUE_P1]), rotate_cmd("2024-05-01"), LOCAL, TODAY)
    completed = foreign("rotation.completed", "2024-05-01", "rotation",
                        **decision.data.model_dump(mode="json", exclude_none=True))
    state = domain.fold([*TOWNSHIP, DUE_P1, completed])
    assert set(state.tenure.posts) == {"P9"}
    assert state.tenure.posts["P9"].since == D("2024-05-01") and state.tenure.posts["P9"].kind == "rotation"
    assert state.tenure.dues == {}
    assert state.tenure.stints["樟市镇"].left_on == D("2024-05-01")
    assert state.tenure.stints["仁义镇"].since == D("2024-05-01")
    assert state.tenure.rotations == 1


def test_evolve_a_deferral_and_a_conclusion() -> None:
    state = domain.fold([*TOWNSHIP, DUE_P1, deferred("2024-03-10", "P1", "township_8y", "2024-12-31")])
    raised = state.tenure.dues[("P1", "township_8y")]
    assert raised.deferred_until == D("2024-12-31") and raised.deferrals == 1
    assert raised.approval_reference == "桂组干〔2024〕3号"
    concluded = domain.fold([*PROMOTED, foreign("probation.concluded", "2021-03-01", "rotation", post_id="L2",
                                                outcome="confirmed")])
    assert not concluded.tenure.posts["L2"].in_probation
    assert domain.fold(PROMOTED).tenure.posts["L2"].in_probation


def test_evolve_ignores_what_it_does_not_know() -> None:
    state = domain.fold(TOWNSHIP)
    assert domain.evolve(state, vacated("2020-01-01", "NOPE")).tenure == state.tenure
    audit = foreign("audit.completed", "2020-01-01", "audit", audit_id="A1")
    assert domain.evolve(state, audit) == state
