"""The audit service's pure domain: commands, state, evolve and decide (no I/O, thresholds from rule sets).

`audits`: the economic responsibility audit lifecycle (经济责任审计). `supervision`: reports, talks,
written inquiries and sanctions (监督). `state`: one cadre's records folded from the ledger.
"""

from services.audit.domain import audits, supervision
from services.audit.domain.state import AuditState, evolve, fold

__all__ = ["AuditState", "audits", "evolve", "fold", "supervision"]
