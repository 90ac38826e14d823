"""What the assessment rules share: the documents they rest on, month arithmetic, appointment blockers."""

from __future__ import annotations

from datetime import date

from services.assessment.domain.state import AssessmentState
from shared.appointment_blockers import GRADE_BASIS as GRADE_BASIS  # one basis for rule 6, shared with the blocker
from shared.appointment_blockers import appointment_blockers
from shared.problems import RuleViolation

SELECTION_BASIS = "党政领导干部选拔任用工作条例 (2019)"
NOTICE_BASIS = "党政领导干部选拔任用工作条例 (2019), 任职前公示制度; 桂阳县任前公示 (S4)"
COMPETENCY_BASIS = "桂阳县行政管理能力测试 (S4): 不合格者自学3个月后补测, 补测不合格者逆向交流、降职、改任非领导职务"
DEFERRAL_BASIS = "党政领导干部选拔任用工作条例 (2019); 辽源市12380举报受理与查核 (S1): 缓任, 取消任职资格"


def blockers(state: AssessmentState, on: date, *, promotion: bool, post: str,
             notice_id: str | None = None) -> list[RuleViolation]:
    """Everything that blocks appointing the cadre on `on` to `post` (under `notice_id`) (DOMAIN.md rules 3 and 6).

    The shared blockers: unverified report, running deferral, a qualification cancelled for this
    appointment, running sanction and, for a promotion, a year barred by a 基本称职 grade (the rotation
    service holds its promotions to the same function).
    """
    return appointment_blockers(state.history, on, notice_id=notice_id, post=post, promotion=promotion)


def raise_blockers(found: list[RuleViolation], doing_en: str, doing_zh: str) -> None:
    """Raise the first blocker, naming what it stops and listing every blocker's rule."""
    if not found:
        return
    first = found[0]
    details = {k: v for k, v in first.extra.items() if k not in ("rule", "basis", "message_en", "message_zh")}
    raise RuleViolation(first.rule, f"{doing_en}: {first.extra['message_en']}",
                        f"{doing_zh}: {first.extra['message_zh']}", basis=str(first.extra.get("basis", "")),
                        blockers=[b.rule for b in found], **details)
