"""Audit domain: commands, state, decide, evolve. Pure: no I/O, thresholds from the rule set."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pydantic import Field

from shared.commands import CadreCommand, Decision
from shared.envelope import CloudEvent
from shared.events.audit import AuditCompleted, AuditType, Evaluation, Finding
from shared.events.types import Identifier, ShortText
from shared.problems import RuleViolation
from shared.rulesets import RuleSet

# ---- commands -------------------------------------------------------------------------------


class AuditCompletion(CadreCommand):
    """Body of `complete audit`: report, evaluation and findings of a finished audit (审计完成)."""

    audit_type: AuditType = Field(description="pre_appointment (任前), in_office (任中), departure (离任).")
    report_number: ShortText = Field(description="Audit report number (审计报告文号).")
    evaluation: Evaluation = Field(description="good (好), fairly_good (较好), average (一般), poor (较差).")
    findings: list[Finding] = Field(default_factory=list, max_length=500, description="Findings (审计发现问题).")


class CompleteAudit(AuditCompletion):
    """The command: an audit, identified by `audit_id`, is complete."""

    audit_id: Identifier


# ---- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditState:
    """One cadre's audits, as far as this service's rules need them."""

    completed: frozenset[str] = field(default_factory=frozenset)


def evolve(state: AuditState, event: CloudEvent) -> AuditState:
    """Fold one ledger event into the state (other services' events leave it unchanged)."""
    if event.type == "audit.completed":
        return replace(state, completed=state.completed | {str(event.data["audit_id"])})
    return state


def fold(events: list[CloudEvent]) -> AuditState:
    """The state after all `events`, in ledger order."""
    state = AuditState()
    for event in events:
        state = evolve(state, event)
    return state


# ---- decide ---------------------------------------------------------------------------------


def decide_complete(state: AuditState, cmd: CompleteAudit, rules: RuleSet) -> Decision:
    """An audit completes once; finding ids are unique; each category is one of the rule set's."""
    if cmd.audit_id in state.completed:
        raise RuleViolation("audit.complete_once", f"audit {cmd.audit_id} is already completed",
                            f"审计 {cmd.audit_id} 已经完成, 不能重复完成")
    ids = [f.finding_id for f in cmd.findings]
    if len(set(ids)) != len(ids):
        raise RuleViolation("audit.finding_ids_unique", "finding ids must be unique within an audit",
                            "同一审计的问题编号不能重复")
    categories = rules.audit.finding_categories
    for finding in cmd.findings:
        if categories and finding.category not in categories:
            raise RuleViolation(
                "audit.finding_category",
                f"finding {finding.finding_id}: category {finding.category} is not one of the "
                f"{len(categories)} categories of rule set {rules.id}",
                f"问题 {finding.finding_id} 的类别 {finding.category} 不在规则集 {rules.id} 的 "
                f"{len(categories)} 种情形之内",
                basis=rules.basis)
    data = AuditCompleted(audit_id=cmd.audit_id, audit_type=cmd.audit_type, report_number=cmd.report_number,
                          evaluation=cmd.evaluation, findings=cmd.findings)
    return Decision("audit.completed", data, cmd.occurred_on)
