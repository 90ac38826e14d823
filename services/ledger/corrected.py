"""Corrections and revocations as the read models see them (读模型中的更正与撤销).

The read models show the *effective* history (`shared.corrections`): a corrected event at its own ledger
position with its last correction's fact and date, a revoked event never there, corrections folded away.
`Corrections` is that reading of the ledger up to a position: for each event a correction or revocation
changed, its ledger position mapped to the fact it now reads (None: revoked). Every `Span` a projection is
given carries it, and every path that reads ledger rows for a projection applies it: `decoded` (the rows
fetched for `types` and a projection's own queries of earlier events), the SQL that reads a span itself
(the directory, audit completions) through `within`/`rows_within`.

Why a map of positions, built once per reading, rather than each cadre's history run through `effective`:
the projections read spans of many cadres, most never corrected; a map costs nothing when empty (the hot
paths test one dict for emptiness) and one dict lookup per row otherwise. The rules stay those of
`shared.corrections`: each corrected event's own small history (the event and the corrections of the same
cadre that name it, in ledger order) is read by `effective` itself, so a correction counts here exactly when
it counts for the services (an earlier event of the same cadre, of the type the correction is named for; the
last correction wins; a revocation wins over any correction).

A span is read with the corrections known when it is applied, so an event is applied as corrected whenever
its correction came, if it came before the event was applied. A correction of an event a read model has
already applied (at or before its checkpoint) is another matter: the rows hold folded state (counts, first and
last dates, resolutions) that no rule can undo; the runner then rebuilds the read model from position 0
(`projections.catch_up`), which reuses the one path tested to give the same rows as event-by-event
application, rather than an inverse for each read model's rules. `changes` says where that is needed:
positions of correction rows that changed what some event reads (a correction naming nothing, another cadre's
event or an event of another type changes nothing), with that event's position and type: only the read models
that have applied it and consume its type are rebuilt (a corrected grade leaves the rotation
and audit read models as they are; the directory, which counts every event, is always rebuilt).

Costs. A runner keeps what it read between rounds; each round reads the ledger's tip together with whether a
correction came since (`TIP_AND_NEWS`, no extra round trip; 0.1 ms on a 1,000,000-row ledger), and reads the
corrections again only when one came. Decoding looks nothing up when no corrected event lies among the rows
(every live span of a ledger whose corrections are older than it). A round that meets a correction rebuilds:
with 100,769 events of the demo county's mix on a 2-core development machine, 2.2-2.5 s for a corrected
posting (five read models, on connections of their own; 2.4-2.9 s on the runner's one connection), 3.0 s
for all nine. A ledger without corrections gives the same rows as before, so no read model's version is
raised for this.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import asyncpg

from shared.corrections import correction_types, effective, points_at
from shared.envelope import StoredEvent, envelope_data


class Fact(NamedTuple):
    """A corrected event as a projection reads it: its envelope's cadre, county and type, the correction's date
    and fact (the fields of `projections.ProjectedEvent` after its position)."""

    cadre_id: str
    county: str
    type: str
    occurred_on: date
    data: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Corrections:
    """The corrections and revocations of the ledger up to position `upto`, as the read models apply them."""

    upto: int = 0
    facts: Mapping[int, Fact | None] = field(default_factory=dict)
    """Position of each event a correction changed -> the fact it reads now (None: revoked)."""
    changes: tuple[int, ...] = ()
    """Positions (ascending) of the correction rows that changed what an earlier event reads."""
    changed_types: tuple[str, ...] = ()
    """The type of the event each of `changes` changed (a correction leaves an event's type as it was)."""
    changed_targets: tuple[int, ...] = ()
    """The position of the event each of `changes` changed."""
    rows: tuple[int, ...] = ()
    """Positions (ascending) of every correction and revocation row, whether it counts or not."""
    targets: tuple[int, ...] = ()
    """The keys of `facts`, ascending."""

    def changed(self, after: int, upto: int, types: frozenset[str] | None = None) -> bool:
        """Whether a correction at a position in (after, upto] changed what an event at or before `after` reads
        (one of these `types`; None: of any type): what a read model at checkpoint `after` has applied. An event
        after `after` is read corrected when it is applied, whenever its correction came."""
        if not self.changes:
            return False
        first, last = bisect.bisect_right(self.changes, after), bisect.bisect_right(self.changes, upto)
        return any(self.changed_targets[i] <= after and (types is None or self.changed_types[i] in types)
                   for i in range(first, last))

    def last_change(self, types: frozenset[str]) -> int:
        """The position of the last correction that changed an event of one of these types (0: none did)."""
        return next((p for p, t in zip(reversed(self.changes), reversed(self.changed_types), strict=True)
                     if t in types), 0)

    def within(self, after: int, upto: int) -> dict[int, Fact | None]:
        """The changed events at positions in (after, upto], with what they read now."""
        if not self.targets:
            return {}
        found = self.targets[bisect.bisect_right(self.targets, after):bisect.bisect_right(self.targets, upto)]
        return {p: self.facts[p] for p in found}

    def rows_within(self, after: int, upto: int) -> tuple[int, ...]:
        """The correction and revocation rows at positions in (after, upto]."""
        if not self.rows:
            return ()
        return self.rows[bisect.bisect_right(self.rows, after):bisect.bisect_right(self.rows, upto)]

    def reaching(self, upto: int) -> Corrections:
        """The same corrections read up to `upto` (the caller knows no correction row lies in between)."""
        return dataclasses.replace(self, upto=upto)


NO_CORRECTIONS = Corrections()
"""A ledger without corrections (also what a `Span` made by hand carries)."""

_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _type_list() -> str:
    # The catalogue's own names, written into the SQL text rather than passed as a parameter: with a literal
    # list the generic plan PostgreSQL keeps for a prepared statement estimates the rare correction types from
    # the column's statistics and searches the (type, position) index once per type (measured on 1,000,000
    # rows: 0.1 ms); with an array parameter it guesses a third of the ledger and scans it whole (55 ms).
    kinds = sorted(correction_types())
    assert all(_TYPE.match(k) for k in kinds), "event type names are plain dotted words"
    return "'{" + ",".join(kinds) + "}'::text[]"


_KINDS = _type_list()
TIP_AND_NEWS = f"""
  SELECT (SELECT coalesce(max(position), 0) FROM ledger_events) AS tip,
         EXISTS (SELECT 1 FROM ledger_events WHERE type = ANY({_KINDS}) AND position > $1) AS news"""
"""The ledger's tip, and whether a correction or revocation was recorded after position $1 (one snapshot)."""
_ROWS = f"""SELECT position, event_id, cadre_id, county, type, occurred_on, canonical FROM ledger_events
            WHERE type = ANY({_KINDS}) AND position <= $1 ORDER BY position"""
_TARGETS = """SELECT position, event_id, cadre_id, county, type, occurred_on, canonical FROM ledger_events
              WHERE event_id = ANY($1::uuid[]) AND position <= $2"""


async def tip_and_news(conn: asyncpg.Connection, known: Corrections) -> tuple[int, bool]:
    """The ledger's tip, and whether corrections were recorded after `known.upto` (then `load` them again)."""
    row = await conn.fetchrow(TIP_AND_NEWS, known.upto)
    assert row is not None  # a SELECT without FROM answers one row
    tip = int(row["tip"])
    return tip, bool(row["news"]) or tip < known.upto  # a tip that went back: another ledger, read it afresh


Reading = tuple[dict[str, Any], date] | None
"""What an event reads: its data and date; None once revoked."""


async def load(conn: asyncpg.Connection, upto: int) -> Corrections:
    """The corrections and revocations recorded up to position `upto`, judged as `shared.corrections.effective`
    judges them. Two indexed queries: the correction rows (by type), then the events they name (by id)."""
    rows = await conn.fetch(_ROWS, upto)
    if not rows:
        return Corrections(upto)
    naming: dict[uuid.UUID, list[tuple[int, str, StoredEvent]]] = defaultdict(list)
    for r in rows:
        data = envelope_data(r["canonical"])
        named = points_at(data)
        if named is not None:
            naming[named].append((r["position"], r["cadre_id"],
                                   StoredEvent(r["event_id"], r["type"], r["county"], r["occurred_on"], data)))
    kinds = correction_types()
    facts: dict[int, Fact | None] = {}
    changes: list[tuple[int, str, int]] = []
    for t in await conn.fetch(_TARGETS, list(naming), upto):
        if t["type"] in kinds:
            continue  # a correction of a correction counts for nothing (`effective` would fold the target away)
        target = StoredEvent(t["event_id"], t["type"], t["county"], t["occurred_on"], envelope_data(t["canonical"]))
        # the target and the corrections of its cadre that name it, in ledger order
        history = sorted([(t["position"], target), *((p, e) for p, c, e in naming[target.id] if c == t["cadre_id"])],
                         key=lambda pe: pe[0])
        was: Reading = (target.data, target.occurredon)
        at = next(i for i, (_, e) in enumerate(history) if e is target)
        for i, (position, _) in enumerate(history[at + 1:], start=at + 1):
            # what it reads once this correction is recorded (those before the target count for nothing there)
            now = effective([e for _, e in history[:i + 1]])
            reads: Reading = (now[0].data, now[0].occurredon) if now else None
            if reads != was:
                changes.append((position, t["type"], t["position"]))
                was = reads
        if was != (target.data, target.occurredon):
            facts[t["position"]] = None if was is None else Fact(t["cadre_id"], t["county"], t["type"], was[1], was[0])
    changes.sort()
    return Corrections(upto, facts, tuple(p for p, _, _ in changes), tuple(t for _, t, _ in changes),
                       tuple(at for _, _, at in changes), tuple(r["position"] for r in rows), tuple(sorted(facts)))
