"""The assessment service's pure domain: commands, state, evolve and decide (no I/O, thresholds from rule sets).

`grading`: annual grades, democratic evaluations and their dual threshold, competency tests, periodic
scores (考核). `selection`: inspection, committee vote, withdrawal (考察, 票决, 终止选拔). `notices`: the
pre-appointment notice, its objections, its close, deferral and cancellation (任前公示, 缓任, 取消任职资格).
`state`: one cadre's records folded from the ledger. `rules`: what they share.
"""

from services.assessment.domain import grading, notices, selection
from services.assessment.domain.state import AssessmentState, evolve, fold

__all__ = ["AssessmentState", "evolve", "fold", "grading", "notices", "selection"]
