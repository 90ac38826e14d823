"""Shared by the catalogue-conformance table tests (premises, once-per identities): a service's decide function as
a `When` over a history, under the assessment and audit tests' rule set, and the event a decision would publish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.assessment.domain import AssessmentState
from services.assessment.domain import fold as assessment_fold
from services.audit.domain import AuditState
from services.audit.domain import fold as audit_fold
from shared.decisions import Decision
from shared.envelope import CloudEvent, new_event
from shared.events import CATALOGUE
from shared.rulesets import RuleSet
from tests.assessment_given import rules
from tests.rotation_support import CADRE, COUNTY

RULES = rules()  # the assessment and audit tests' (431021@2024.1)

When = Callable[[list[CloudEvent]], Decision]


def assessment(decide: Callable[[AssessmentState, Any, RuleSet], Decision], command: Any) -> When:
    return lambda given: decide(assessment_fold(given), command, RULES)


def audit(decide: Callable[[AuditState, Any, RuleSet], Decision], command: Any) -> When:
    return lambda given: decide(audit_fold(given), command, RULES)


def as_event(decision: Decision) -> CloudEvent:
    """The event a decision would publish."""
    return new_event(event_type=decision.type, cadre_id=CADRE, county=COUNTY, service=CATALOGUE[decision.type].service,
                     data=decision.data, occurred_on=decision.occurred_on, ruleset=RULES.id,
                     event_id=decision.event_id)
