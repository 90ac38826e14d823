"""Rotation domain (任用与交流): state, evolve, decide. Pure: no I/O, thresholds from the rule set.

`state`: one cadre's state folded from the ledger (`RotationState`, `evolve`, `fold`); `checks`: the checks several
commands share; `postings`: registration and postings (register, erase, assign, vacate, conclude a probation);
`rotation`: a rotation falling due, its deferral and the rotation carried out.

Rules (ids as in the 422 answers):
- `command.not_in_future`: a fact is recorded on or after the day it happened.
- `cadre.register_once`, `cadre.registered_first`.
- `posting.already_held`, `posting.not_held` (also a step dated before the post was taken),
  `posting.kind_matches_level` (a promotion raises the rank, a demotion lowers it, a lateral posting or a rotation
  does not raise it), `posting.principal_needs_leadership` (正职 only on a leadership post),
  `posting.election_to_elected_post` (a posting of kind election is to a post filled by election, 选举产生),
  `posting.notice_cleared` (a notice named by a posting that is no promotion closed as clear),
  `posting.notice_post_matches` (a notice named by a posting proposed the post taken).
- For a promotion, and an election that raises the rank: `promotion.notice_cleared` (DOMAIN rule 1), the
  `appointment.*` blockers (rule 3, shared), `assessment.promotion_blocked` (rule 6, shared: a 基本称职 or 不称职
  grade), `assessment.demotion_pending` (rules 6 and 7, shared: a breach, a 不称职 grade or a dismissal case with no
  demotion or removal since), `promotion.not_during_probation` (rule 4).
- `probation.none`, `probation.before_end`, `probation.early_end_reason` (rule 4).
- `rotation.rule_not_applicable`, `rotation.not_yet_due`, `rotation.due_once` (rule 5, the scheduler).
- `rotation.deferral_approval_required`, `rotation.deferral_needs_due`, `rotation.deferral_until`.
- `rotation.not_during_probation`, `rotation.under_investigation`, `rotation.trigger_not_due`,
  `rotation.same_post`, `rotation.same_township`, `rotation.no_promotion` (rule 5).
"""

from services.rotation.domain.postings import (
    decide_assign,
    decide_conclude_probation,
    decide_erase,
    decide_register,
    decide_vacate,
)
from services.rotation.domain.rotation import decide_complete, decide_defer, decide_due, due_event_id
from services.rotation.domain.state import RotationState, evolve, fold

__all__ = ["RotationState", "decide_assign", "decide_complete", "decide_conclude_probation", "decide_defer",
           "decide_due", "decide_erase", "decide_register", "decide_vacate", "due_event_id", "evolve", "fold"]
