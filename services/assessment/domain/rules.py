"""What the assessment rules share: appointment blockers. Every rule cites its documents from the rule set's
`bases` (the one in force on the fact's day), never from code."""

from __future__ import annotations

from datetime import date

from services.assessment.domain.state import AssessmentState
from shared.appointment_blockers import appointment_blockers
from shared.problems import RuleViolation
from shared.rulesets import RuleSet


def blockers(state: AssessmentState, on: date, rules: RuleSet, *, promotion: bool, post: str,
             notice_id: str | None = None) -> list[RuleViolation]:
    """Everything that blocks appointing the cadre on `on` to `post` (under `notice_id`) (DOMAIN.md rules 3 and 6).

    The shared blockers: unverified report, running deferral, a qualification cancelled for this
    appointment, running sanction and, for a promotion, a year barred by a 基本称职 grade (the rotation
    service holds its promotions to the same function), each citing the `bases` of `rules`.
    """
    return appointment_blockers(state.history, on, rules.bases, notice_id=notice_id, post=post, promotion=promotion)


def raise_blockers(found: list[RuleViolation], doing_en: str, doing_zh: str) -> None:
    """Raise the first blocker, naming what it stops and listing every blocker's rule."""
    if not found:
        return
    first = found[0]
    details = {k: v for k, v in first.extra.items() if k not in ("rule", "basis", "message_en", "message_zh")}
    raise RuleViolation(first.rule, f"{doing_en}: {first.extra['message_en']}",
                        f"{doing_zh}: {first.extra['message_zh']}", basis=str(first.extra.get("basis", "")),
                        blockers=[b.rule for b in found], **details)
