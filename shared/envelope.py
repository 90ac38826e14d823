"""The CloudEvents 1.0 envelope (JSON event format) and its structured-mode NATS codec.

The official CloudEvents SDK dropped pydantic and has no NATS binding, so the envelope is our own
model. Extensions: `county` (GB/T 2260 code), `occurredon` (when the fact happened, not when it was
recorded), `ruleset` (the rule-set version the event was decided under), `traceparent` (W3C).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Protocol, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from shared.canonical import CanonicalisationError, canonical_bytes, duplicate_keys
from shared.events.registry import UnknownEventType, spec_for
from shared.events.types import Day, Instant
from shared.field_errors import from_pydantic
from shared.ids import time_ordered_id

CADRE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
COUNTY_PATTERN = r"^[0-9]{6}$"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
CONTENT_TYPE = "application/cloudevents+json"
NUL_ESCAPE = b"\\u0000"
"""How U+0000 appears in JSON text (RFC 8785 and orjson both escape it this way)."""
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an odd run of backslashes before u0000: the last one escapes it


def holds_nul(json_text: bytes) -> bool:
    """Whether JSON text holds U+0000 in a string: `\\u0000`, but not `\\\\u0000` (an escaped backslash, then the
    letters u0000)."""
    return NUL_ESCAPE in json_text and _NUL.search(json_text) is not None


SUBJECT_PREFIX = "cadre"

CadreId = Annotated[str, StringConstraints(pattern=CADRE_ID_PATTERN)]
CountyCode = Annotated[str, StringConstraints(pattern=COUNTY_PATTERN)]


class CloudEvent(BaseModel):
    """One event as it travels on NATS and as the ledger stores it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(json_schema_extra={"pattern": EVENT_ID_PATTERN})
    source: Annotated[str, StringConstraints(pattern=r"^/counties/[0-9]{6}/[a-z]+$")]
    type: Annotated[str, StringConstraints(pattern=r"^[a-z_]+(\.[a-z_]+)+$")]
    subject: CadreId
    time: Instant
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    county: CountyCode
    occurredon: Day  # verify compares the occurred_on column with this field's text: only YYYY-MM-DD
    ruleset: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    traceparent: Annotated[str, StringConstraints(pattern=TRACEPARENT_PATTERN)] | None = None
    data: dict[str, Any]

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_stored(cls, value: Any) -> Any:
        """Event ids as text must be the form PostgreSQL prints a uuid in (lowercase, 8-4-4-4-12).

        The hashed bytes keep the id as published while the `event_id` column holds the uuid, and
        verification checks that the two agree as text: "{...}", "urn:uuid:", hyphen-less or upper-case
        spellings of the same uuid would make a sound ledger read as tampered.
        """
        if isinstance(value, str) and not _EVENT_ID.match(value):
            raise ValueError("event id (事件标识) must be a UUID written in lowercase 8-4-4-4-12 form, "
                             "e.g. 0b9c2f7e-3c1a-4d2b-9e8f-1a2b3c4d5e6f (事件标识须为小写 8-4-4-4-12 形式的 UUID)")
        return value

    @property
    def nats_subject(self) -> str:
        """The NATS subject this event is published on: `cadre.<county>.<cadre_id>`."""
        return cadre_subject(self.county, self.subject)

    def json_obj(self) -> dict[str, Any]:
        """The envelope as a JSON object (RFC 3339 times, ISO dates, no nulls)."""
        obj = self.model_dump(mode="json", exclude_none=True)
        obj["time"] = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return obj

    def canonical(self) -> bytes:
        """RFC 8785 bytes of the envelope: the bytes published, stored and hashed."""
        return canonical_bytes(self.json_obj())

    def with_fact(self, data: dict[str, Any], occurredon: date) -> CloudEvent:
        """This event as a correction says it should have read (`shared.corrections`); never published."""
        return self.model_copy(update={"data": data, "occurredon": occurredon})


def cadre_subject(county: str, cadre_id: str) -> str:
    """NATS subject of one cadre's events in one county."""
    return f"{SUBJECT_PREFIX}.{county}.{cadre_id}"


def cadre_wildcard(cadre_id: str) -> str:
    """The subject filter covering a cadre's events in every county (for optimistic concurrency)."""
    return f"{SUBJECT_PREFIX}.*.{cadre_id}"


def new_event(
    *,
    event_type: str,
    cadre_id: str,
    county: str,
    service: str,
    data: BaseModel,
    occurred_on: date,
    ruleset: str,
    traceparent: str | None = None,
    now: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> CloudEvent:
    """Build an envelope for a catalogue event; `data` must be that type's model.

    `event_id` defaults to a new time-ordered UUID (`shared.ids`); a deterministic one lets racing publishers of
    the same fact be de-duplicated by JetStream (it is also the `Nats-Msg-Id`).
    """
    spec = spec_for(event_type)
    if not isinstance(data, spec.model):
        raise TypeError(f"{event_type} carries {spec.model.__name__}, not {data.__class__.__name__}")
    return CloudEvent(
        id=event_id or time_ordered_id(),
        source=f"/counties/{county}/{service}",
        type=event_type,
        subject=cadre_id,
        time=now or datetime.now(UTC),
        dataschema=spec.dataschema,
        county=county,
        occurredon=occurred_on,
        ruleset=ruleset,
        traceparent=traceparent,
        data=data.model_dump(mode="json", exclude_none=True),
    )


class FoldedEvent(Protocol):
    """What a fold reads of an event: a CloudEvent has it, and so does a StoredEvent built from ledger columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def county(self) -> str: ...
    @property
    def occurredon(self) -> date: ...
    @property
    def data(self) -> dict[str, Any]: ...
    def with_fact(self, data: dict[str, Any], occurredon: date) -> Self: ...


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event read back from the ledger: its query columns (verified against the hashed bytes) and `data`.

    The bytes were validated when they were taken in; reading them again need not validate the whole
    envelope (a fifth of a state read's CPU did).
    """

    id: uuid.UUID
    type: str
    county: str
    occurredon: date
    data: dict[str, Any]

    def with_fact(self, data: dict[str, Any], occurredon: date) -> StoredEvent:
        """This event as a correction says it should have read (`shared.corrections`)."""
        return dataclasses.replace(self, data=data, occurredon=occurredon)


_OPENING = b'{"county":"'
_DATA_KEY = b'","data":{'
_DATA_AT = len(_OPENING) + 6 + len(_DATA_KEY) - 1  # the `{` that opens data's value, after the six-digit county
_AFTER_DATA = b',"dataschema":"'
_CONTENT_TYPE = b',"datacontenttype":"application/json"'


def envelope_data(canonical: bytes) -> dict[str, Any]:
    """The `data` of stored canonical bytes, parsing only the slice that holds it.

    The Python twin of the SQL function ledger_event_data (migration 034), which explains the layout:
    RFC 8785 sorts the keys, so `county` (six digits) opens the envelope, `data` follows, and then
    `datacontenttype` (only ever "application/json") or `dataschema`. Quotes inside strings are escaped,
    and no data schema has a key called dataschema, so the first `,"dataschema":"` is the envelope's own.
    Bytes laid out otherwise are parsed whole.
    """
    if canonical.startswith(_OPENING) and canonical.startswith(_DATA_KEY, len(_OPENING) + 6):
        end = canonical.find(_AFTER_DATA)
        if end > _DATA_AT:
            if canonical.endswith(_CONTENT_TYPE, 0, end):
                end -= len(_CONTENT_TYPE)
            data: dict[str, Any] = orjson.loads(canonical[_DATA_AT:end])
            return data
    whole: dict[str, Any] = orjson.loads(canonical)["data"]
    return whole


class InvalidEvent(ValueError):
    """A message that is not a valid catalogue event; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class ParsedEvent:
    """A validated event with the canonical bytes the ledger stores and hashes.

    Slotted, not frozen: the writer makes one per event, and a frozen dataclass pays a call per field.
    """

    event: CloudEvent
    canonical: bytes


def _errors(exc: ValidationError) -> str:
    entries = [from_pydantic(error, "(root)") for error in exc.errors()]
    return "; ".join(f"{entry['field']}: {entry['message']}" for entry in entries)


def _keys_given_twice(raw: bytes) -> list[str]:
    try:
        return duplicate_keys(raw)
    except RecursionError as exc:  # the models bound how deep an event nests; this is only a second line
        raise InvalidEvent("not_json", "nested too deeply to read (嵌套过深)") from exc


def parse_event(raw: bytes, nats_subject: str) -> ParsedEvent:
    """Validate raw NATS bytes as a catalogue event published on `nats_subject`.

    Raises InvalidEvent with reason `not_json`, `not_cloudevent`, `unknown_type`, `schema`,
    `source_mismatch` (a service publishing another's event type), `subject_mismatch` or
    `not_canonicalisable`.
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("not_json", f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidEvent("not_cloudevent", f"a CloudEvent is a JSON object, got {type(obj).__name__}")
    try:
        event = CloudEvent.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent("not_cloudevent", _errors(exc)) from exc
    try:
        spec = spec_for(event.type)
    except UnknownEventType as exc:
        raise InvalidEvent("unknown_type", str(exc)) from exc
    if event.dataschema != spec.dataschema:
        raise InvalidEvent("schema", f"dataschema {event.dataschema!r} is not {spec.dataschema!r}")
    try:
        spec.model.model_validate(event.data)
    except ValidationError as exc:
        raise InvalidEvent("schema", f"data of {event.type}: {_errors(exc)}") from exc
    source_county, _, source_service = event.source.removeprefix("/counties/").partition("/")
    if source_service != spec.service or source_county != event.county:
        raise InvalidEvent("source_mismatch",
                           f"{event.type} is published by the {spec.service} service of its county, not by "
                           f"{event.source!r}")
    if nats_subject != event.nats_subject:
        raise InvalidEvent("subject_mismatch",
                           f"published on {nats_subject!r} but the envelope says {event.nats_subject!r}")
    try:
        canonical = canonical_bytes(obj)
    except CanonicalisationError as exc:
        raise InvalidEvent("not_canonicalisable", str(exc)) from exc
    # Canonical bytes as sent (what the services publish) cannot repeat a key; anything else is read again for
    # keys given twice, whose dropped values the stored bytes would silently lack.
    if canonical != raw and (twice := _keys_given_twice(raw)):
        raise InvalidEvent("not_json", f"keys given more than once (键重复): {', '.join(twice)}")
    if holds_nul(canonical):
        # PostgreSQL text and jsonb cannot hold U+0000, and the read models and the auditors' view read the
        # stored bytes as jsonb: such an event would fail every projection of its span forever.
        raise InvalidEvent("schema", "strings must not contain U+0000 (NUL)")
    return ParsedEvent(event, canonical)
