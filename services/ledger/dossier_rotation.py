"""The dossier's rotation part (任用与交流): registration, posts held and left, rotations. Pure.

`services.ledger.dossier` holds a `RotationPart` in the `Dossier` (`rotation`) and registers
`REDUCERS`. Posts and township tenure come from the same fold the rotation service decides on
(`shared.tenure`), so the dossier on a date shows what the rules saw on that date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, PrivateAttr

from shared.envelope import FoldedEvent
from shared.events.rotation import ELECTED_ZH
from shared.tenure import TenureState, applicable_rules, evolve_tenure

if TYPE_CHECKING:
    from services.ledger.dossier import Dossier


class PostView(BaseModel):
    """A post held (现任职务)."""

    post_id: str
    post: str
    unit: str
    township: str | None
    level: str
    leadership: bool
    principal: bool | None = Field(None, description="A principal's post (正职); null: not stated.")
    elected: bool | None = Field(None, description="A post filled by election (选举产生): true, as every posting of "
                                                   "kind election, stated or not; by appointment (委任): false; null: "
                                                   "not stated (未说明).")
    elected_zh: str = Field(ELECTED_ZH[None], description="elected in words: 选举产生, 委任 or 未说明.")
    kind: str
    since: date = Field(description="Decision date (任职决定日期).")
    township_since: date | None = Field(None, description="Start of continuous presence in the township.")
    probation_end: date | None = None
    probation: str = "none"
    rules: list[str] = Field(default_factory=list, description="Rotation rules that apply (适用的交流规则).")


class FormerPost(BaseModel):
    """A post left (曾任职务)."""

    post_id: str
    post: str
    township: str | None
    principal: bool | None = Field(None, description="A principal's post (正职); null: not stated.")
    elected: bool | None = Field(None, description="A post filled by election (选举产生): true; by appointment (委任): "
                                                   "false; null: not stated (未说明).")
    elected_zh: str = Field(ELECTED_ZH[None], description="elected in words: 选举产生, 委任 or 未说明.")
    since: date
    left_on: date
    reason: str


class DueView(BaseModel):
    """A rotation due and not carried out (应交流)."""

    post_id: str
    rule: str
    due_on: date
    overdue_on: date
    deferred_until: date | None = None
    approval_reference: str | None = None


class RotationPart(BaseModel):
    """Everything the rotation service recorded about the cadre."""

    registered_on: date | None = None
    registration: dict[str, Any] | None = Field(
        None, description="Sex, birth month, work start, unit and the name/ID commitments (登记信息, 无明文).")
    posts: dict[str, PostView] = Field(default_factory=dict, description="Posts held (现任职务).")
    former_posts: list[FormerPost] = Field(default_factory=list, description="Posts left (曾任职务).")
    rotations_due: list[DueView] = Field(default_factory=list, description="Rotations due (应交流).")
    rotations: list[dict[str, Any]] = Field(default_factory=list, description="Rotations completed (交流).")
    _tenure: TenureState = PrivateAttr(default_factory=TenureState)


def _registered(d: Dossier, e: FoldedEvent) -> None:
    d.rotation.registered_on = e.occurredon
    d.rotation.registration = dict(e.data)


def _tenure_event(d: Dossier, e: FoldedEvent) -> None:
    part = d.rotation
    before = part._tenure
    part._tenure = after = evolve_tenure(before, e.type, e.occurredon, e.data)
    for post_id, p in before.posts.items():
        if post_id not in after.posts:
            reason = str(e.data.get("reason", "rotation"))
            part.former_posts.append(FormerPost(post_id=post_id, post=p.post, township=p.township,
                                                principal=p.principal, elected=p.elected,
                                                elected_zh=ELECTED_ZH[p.elected], since=p.since,
                                                left_on=e.occurredon, reason=reason))
    if e.type == "rotation.completed":
        part.rotations.append({"on": e.occurredon.isoformat(), "from_post_id": e.data["from_post_id"],
                               "to_post_id": e.data["to"]["post_id"], "trigger_rule": e.data["trigger_rule"],
                               "years_in_old_post": e.data["years_in_old_post"]})
    part.posts = {p.post_id: PostView(
        post_id=p.post_id, post=p.post, unit=p.unit, township=p.township, level=p.level, leadership=p.leadership,
        principal=p.principal, elected=p.elected, elected_zh=ELECTED_ZH[p.elected], kind=p.kind, since=p.since,
        probation_end=p.probation_end, probation=p.probation, rules=applicable_rules(p),
        township_since=after.stints[p.township].since if p.township is not None and p.township in after.stints
        else None)
        for p in after.posts.values()}
    part.rotations_due = [DueView(post_id=x.post_id, rule=x.rule, due_on=x.due_on, overdue_on=x.overdue_on,
                                  deferred_until=x.deferred_until, approval_reference=x.approval_reference)
                          for x in after.dues.values()]


Reducer = Callable[["Dossier", FoldedEvent], None]
REDUCERS: dict[str, Reducer] = {
    "cadre.registered": _registered,
    **{t: _tenure_event for t in ("post.assigned", "post.vacated", "probation.concluded", "rotation.due",
                                  "rotation.deferred", "rotation.completed")},
}
