"""The envelope fields that `ledger_events`' query columns repeat, read from the hashed bytes.

Both verification paths read them here, so the range check and the row-by-row
scan agree on which bytes are an event envelope at all. msgspec reads only these six fields into
Python strings and skips the rest (``data`` above all) without building it, which is most of
the cost of parsing an envelope; it still checks the skipped JSON's syntax. UTF-8 is checked over
all of the bytes first, because msgspec checks it only in the strings it keeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import msgspec

COLUMN_FIELDS = {"event_id": "id", "cadre_id": "subject", "county": "county", "type": "type",
                 "occurred_on": "occurredon", "ruleset": "ruleset"}
"""The query columns of `ledger_events` that repeat an envelope field, and the field each repeats."""


class _Repeated(msgspec.Struct):
    """The repeated fields, in `COLUMN_FIELDS` order; each must be a JSON string."""

    id: str
    subject: str
    county: str
    type: str
    occurredon: str
    ruleset: str


_DECODE = msgspec.json.Decoder(_Repeated).decode
_AS_TUPLE = msgspec.structs.astuple
_UNREADABLE = (UnicodeDecodeError, msgspec.DecodeError, RecursionError)


class NotAnEnvelope(ValueError):
    """The bytes are not UTF-8, not one JSON object, or lack one of the fields as a string."""


def repeated_fields(raw: bytes) -> tuple[str, ...]:
    """The `COLUMN_FIELDS` fields of the envelope `raw`, in that order; `NotAnEnvelope` says why not."""
    try:
        raw.decode()
        return _AS_TUPLE(_DECODE(raw))
    except _UNREADABLE as exc:
        raise NotAnEnvelope(str(exc)) from None


def repeated_fields_of(raws: Sequence[bytes]) -> list[tuple[str, ...]] | None:
    """`repeated_fields` of every envelope in `raws`, or None if any one is not an envelope."""
    try:
        if not all(map(bytes.isascii, raws)):  # ASCII is UTF-8, and checking it builds no string
            deque(map(bytes.decode, raws), maxlen=0)
        return list(map(_AS_TUPLE, map(_DECODE, raws)))
    except _UNREADABLE:
        return None
