"""The ledger's pure core: turn a batch of stream messages into rows to append.

No I/O here. The writer gathers what the plan needs (the consumer checkpoint, each cadre's chain
head, which event ids are already stored) and writes what the plan says, in one transaction.

The records made per event are slotted dataclasses, not frozen ones: a frozen dataclass's
`__init__` pays an `object.__setattr__` call per field, on the ingest path's hottest lines.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.envelope import InvalidEvent, ParsedEvent, parse_event
from shared.merkle import leaf_hash

_SUBJECT = re.compile(r"^cadre\.([^.]+)\.([A-Za-z0-9_-]{1,64})$")


@dataclass(slots=True)
class StreamMessage:
    """A message as delivered by JetStream."""

    stream_seq: int
    subject: str
    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ChainHead:
    """The last appended event of one cadre."""

    version: int
    leaf_hash: bytes


@dataclass(slots=True)
class EventRow:
    """One row of `ledger_events`."""

    position: int
    stream_seq: int
    event_id: uuid.UUID
    cadre_id: str
    county: str
    type: str
    occurred_on: date
    recorded_at: datetime
    ruleset: str
    cadre_version: int
    prev_hash: bytes | None
    leaf_hash: bytes
    canonical: bytes


@dataclass(frozen=True)
class QuarantineRow:
    """One row of `quarantine`: a message kept with the reason it was not appended."""

    stream_seq: int
    nats_subject: str
    cadre_id: str | None
    reason: str
    detail: str
    headers: Mapping[str, str]
    raw: bytes


QUARANTINE_REASONS = {
    "not_json": "not JSON, or not UTF-8 (不是 JSON 或非 UTF-8 编码)",
    "not_cloudevent": "not a CloudEvents envelope as the contract writes one (不是符合约定的 CloudEvents 事件信封)",
    "unknown_type": "an event type the catalogue does not have (事件目录中没有此事件类型)",
    "schema": "its data breaks the event type's schema (事件数据不符合该类型的模式)",
    "source_mismatch": "published by another service than the one owning its type (发布来源不是该事件类型的所属服务)",
    "subject_mismatch": "the NATS subject names another county or cadre than the envelope (主题与信封中的县或干部不符)",
    "not_canonicalisable": "it has no RFC 8785 canonical form (无法转换为 RFC 8785 规范形式)",
    "duplicate": "its event id is already in the ledger (事件标识已在台账中: 重复事件)",
    "unstorable": "the database refused to store it (数据库拒绝存储)",
}
"""What each quarantine reason means, in English and Chinese: the `detail` beside it is often the parser's own words."""


def reason_text(reason: str) -> str:
    """The meaning of a quarantine reason (the code itself for a reason this version does not know)."""
    return QUARANTINE_REASONS.get(reason, reason)


@dataclass
class BatchPlan:
    """What one transaction appends, and the writer state after it."""

    events: list[EventRow] = field(default_factory=list)
    quarantined: list[QuarantineRow] = field(default_factory=list)
    redelivered: int = 0
    gap_after: int | None = None
    last_stream_seq: int = 0
    next_position: int = 1
    heads: dict[str, ChainHead] = field(default_factory=dict)
    """The chain heads this batch moved (not a copy of every head: that would cost O(cadres) per batch)."""


def cadre_of_subject(subject: str) -> str | None:
    """The cadre id in `cadre.<county>.<cadre_id>`, or None for any other subject."""
    match = _SUBJECT.match(subject)
    return match[2] if match else None


@dataclass(slots=True)
class Classified:
    """A message with its validation outcome: a parsed event, or the reason it is not one."""

    msg: StreamMessage
    parsed: ParsedEvent | None
    rejection: InvalidEvent | None


def classify(messages: Sequence[StreamMessage]) -> list[Classified]:
    """Validate every message, in stream order.

    A rejection is kept as a new exception, without the raised one's traceback and causes: their frames (this
    one's, holding `out` and every message of the batch, and the parser's) made a reference cycle with `out`, which
    only the cyclic garbage collector breaks. Payload bytes do not count towards its thresholds, so a backlog of
    large invalid messages stayed in memory long after it was quarantined (1.7 GB for 800 messages of 1 MB).
    """
    out = []
    for msg in sorted(messages, key=lambda m: m.stream_seq):
        try:
            out.append(Classified(msg, parse_event(msg.data, msg.subject), None))
        except InvalidEvent as exc:
            out.append(Classified(msg, None, InvalidEvent(exc.reason, exc.detail)))
    return out


def event_ids(batch: Sequence[Classified]) -> list[uuid.UUID]:
    """Ids of the valid events in the batch, to look up among stored events before planning."""
    return [c.parsed.event.id for c in batch if c.parsed is not None]


def cadres(batch: Sequence[Classified]) -> set[str]:
    """Cadres with valid events in the batch, whose chain heads the plan needs."""
    return {c.parsed.event.subject for c in batch if c.parsed is not None}


def plan_batch(
    batch: Sequence[Classified],
    *,
    checkpoint_seq: int,
    next_position: int,
    heads: Mapping[str, ChainHead],
    stored_ids: Mapping[uuid.UUID, int],
    unstorable: Mapping[int, str] | None = None,
) -> BatchPlan:
    """Decide each message: already committed (skip), appended, or quarantined with a reason.

    Every stream sequence is either appended or quarantined, so committed sequences are contiguous;
    planning stops at a gap (`gap_after`), which means the consumer delivered out of order and
    must be re-created from the checkpoint.

    `heads` must hold the chain head of every cadre in `cadres(batch)` that has events;
    `stored_ids` maps the already-stored ids among `event_ids(batch)` to their stream sequences;
    `unstorable` maps the stream sequences of messages the database refused to store, alone in a batch, to its
    refusal: they are quarantined as `unstorable` (their raw bytes are kept like every quarantined message's).
    """
    plan = BatchPlan(last_stream_seq=checkpoint_seq, next_position=next_position)
    seen: dict[uuid.UUID, int] = dict(stored_ids)
    for item in batch:
        msg = item.msg
        if msg.stream_seq <= plan.last_stream_seq:
            plan.redelivered += 1
            continue
        if msg.stream_seq != plan.last_stream_seq + 1:
            plan.gap_after = plan.last_stream_seq
            break
        plan.last_stream_seq = msg.stream_seq
        if unstorable and msg.stream_seq in unstorable:
            plan.quarantined.append(_quarantine(msg, "unstorable", unstorable[msg.stream_seq]))
            continue
        if item.parsed is None:
            assert item.rejection is not None
            plan.quarantined.append(_quarantine(msg, item.rejection.reason, item.rejection.detail))
            continue
        parsed = item.parsed
        event = parsed.event
        first_seq = seen.get(event.id)
        if first_seq is not None:
            plan.quarantined.append(_quarantine(
                msg, "duplicate", f"event {event.id} was already appended from stream sequence {first_seq}"))
            continue
        seen[event.id] = msg.stream_seq
        head = plan.heads.get(event.subject) or heads.get(event.subject)
        version = head.version + 1 if head else 1
        leaf = leaf_hash(parsed.canonical)
        plan.events.append(EventRow(
            position=plan.next_position, stream_seq=msg.stream_seq, event_id=event.id, cadre_id=event.subject,
            county=event.county, type=event.type, occurred_on=event.occurredon, recorded_at=event.time,
            ruleset=event.ruleset, cadre_version=version, prev_hash=head.leaf_hash if head else None,
            leaf_hash=leaf, canonical=parsed.canonical))
        plan.heads[event.subject] = ChainHead(version, leaf)
        plan.next_position += 1
    return plan


def _quarantine(msg: StreamMessage, reason: str, detail: str) -> QuarantineRow:
    return QuarantineRow(stream_seq=msg.stream_seq, nats_subject=storable(msg.subject, exact=True),
                         cadre_id=cadre_of_subject(msg.subject), reason=reason, detail=storable(detail)[:2000],
                         headers={storable(k, exact=True): storable(v, exact=True) for k, v in msg.headers.items()},
                         raw=msg.data)


def storable(text: str, *, exact: bool = False) -> str:
    """`text` as PostgreSQL text and jsonb can hold it: U+0000, which both refuse, written as the six characters
    `\\u0000`, and a byte that was not UTF-8 (kept by the bus as a lone surrogate, which cannot be encoded for
    PostgreSQL at all) written as `\\xNN`. A quarantine row the writer could not store would hold up every
    message behind it, for good.

    `exact`: what the message itself carried (its subject, its headers), kept so that the bytes can be told back:
    every backslash is doubled, so an escape is never mistaken for text that spells one. Without it (a reason
    written for people) text that needs no escape is kept as it is.
    """
    if not exact:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            if "\x00" not in text:
                return text
    text = text.replace("\\", "\\\\")
    if not text.isascii():
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that stands for no byte: written as `\\uDnnn`
            text = text.encode("utf-8", "backslashreplace").decode()
    return text.replace("\x00", "\\u0000")
