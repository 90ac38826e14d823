"""The posts a cadre held in a year or on a day, read from the rotation service's events in the cadre's history. Pure.

Rule 7's demotion or removal applies to unit principals (党政正职, S4) only, so the dual evaluation check needs
to know whether the cadre held a principal's post in the evaluated year; a 不称职 grade demotes a cadre whose post
on the grade's day can be lowered (rule 6), so the grade needs the posts held on that day. The postings are folded by
`shared.tenure.evolve_tenure`, as the rotation service and the read models fold them, so a post counts as held
from its decision date (任职决定日期) until the day it is left (`post.vacated`'s day, or a rotation's decision
date): held on every day from `since` up to the day before `left_on`, the day it is left belonging to the next post.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from shared.envelope import CloudEvent
from shared.tenure import TENURE_EVENTS, Posting, TenureState, evolve_tenure


class HeldPost(NamedTuple):
    """A posting on record and when it ended."""

    posting: Posting
    left_on: date | None = None
    """The day the post was left (not held on it); None: still held."""

    def held_on(self, day: date) -> bool:
        """Held on `day` (from its decision date up to the day before it was left)."""
        return self.posting.since <= day and (self.left_on is None or self.left_on > day)

    def held_in(self, year: int) -> bool:
        """Held on at least one day of `year`."""
        return self.posting.since <= date(year, 12, 31) and (self.left_on is None or self.left_on > date(year, 1, 1))

    @property
    def principal(self) -> bool:
        """A principal's post (正职): a leadership post whose `principal` is true or not stated.

        Not stated counts as a principal's, as the event's field says (older records) and as the departure-audit
        read model reads it (DOMAIN rule 9); a non-leadership post is never one."""
        return self.posting.leadership and self.posting.principal is not False

    def as_json(self) -> dict[str, Any]:
        """What a refusal lists of the post."""
        p = self.posting
        return {"post_id": p.post_id, "post": p.post, "unit": p.unit, "leadership": p.leadership,
                "principal": p.principal, "since": p.since.isoformat(),
                "left_on": self.left_on.isoformat() if self.left_on else None}


def _left_on(event: CloudEvent) -> date:
    """The day an event that ends a posting ends it (as `evolve_tenure` counts it)."""
    if event.type == "rotation.completed":
        value = event.data["decision_date"]
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    return event.occurredon


def posts_on_record(history: Sequence[CloudEvent], known_on: date) -> list[HeldPost]:
    """Every posting in `history` recorded as of `known_on` or earlier (a later record is not known on that day),
    with the day it ended, in the order taken."""
    state = TenureState()
    ended: list[HeldPost] = []
    for event in history:
        if event.type not in TENURE_EVENTS or event.occurredon > known_on:
            continue
        before = state.posts
        state = evolve_tenure(state, event.type, event.occurredon, event.data)
        for post_id, posting in before.items():
            now = state.posts.get(post_id)
            if now is None:
                ended.append(HeldPost(posting, _left_on(event)))
            elif now.since != posting.since:
                # taken again without a recorded leave (only another producer could record it): the first
                # holding ends where the second begins
                ended.append(HeldPost(posting, now.since))
    held = ended + [HeldPost(p) for p in state.posts.values()]
    return sorted(held, key=lambda h: (h.posting.since, h.posting.post_id))


def posts_held_in(history: Sequence[CloudEvent], year: int, known_on: date) -> list[HeldPost]:
    """The postings known on `known_on` that were held on some day of `year`."""
    return [h for h in posts_on_record(history, known_on) if h.held_in(year)]


def posts_held_on(history: Sequence[CloudEvent], day: date) -> list[HeldPost]:
    """The postings known on `day` that were held on it."""
    return [h for h in posts_on_record(history, day) if h.held_on(day)]
