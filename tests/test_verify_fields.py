"""The envelope fields verification compares with the query columns, read from the hashed bytes."""

from __future__ import annotations

import orjson
import pytest

from shared.verify.fields import COLUMN_FIELDS, NotAnEnvelope, repeated_fields, repeated_fields_of
from tests.support import audit_event, stored_completion

CANONICAL = audit_event("F1").canonical()
WITH_TRAPS = stored_completion("F2", traps=True)


@pytest.mark.parametrize("raw", [CANONICAL, WITH_TRAPS], ids=["plain", "traps in data"])
def test_the_fields_are_those_a_full_parse_finds_in_column_order(raw: bytes) -> None:
    envelope = orjson.loads(raw)
    assert repeated_fields(raw) == tuple(envelope[field] for field in COLUMN_FIELDS.values())


NOT_ENVELOPES = {
    "not UTF-8 inside data, where no field is read": CANONICAL.replace(b'"data":{"', b'"data":{"\xff', 1),
    "a UTF-8-encoded lone surrogate": CANONICAL.replace(b'"data":{"', b'"data":{"\xed\xa0\x80', 1),
    "broken JSON inside data": CANONICAL.replace(b'"data":{', b'"data":{,', 1),
    "bytes after the object": CANONICAL + b"}",
    "a field that is a number": CANONICAL.replace(b'"county":"431021"', b'"county":431021', 1),
    "a field missing": CANONICAL.replace(b'"ruleset":', b'"rule_set":', 1),
    "not an object": b"[" + CANONICAL + b"]",
    "nested past any envelope": CANONICAL.replace(b'"data":{', b'"data":{"x":' + b"[" * 5000 + b"]" * 5000 + b",", 1),
}


@pytest.mark.parametrize("raw", NOT_ENVELOPES.values(), ids=NOT_ENVELOPES.keys())
def test_bytes_that_are_not_an_envelope_are_named_so_one_at_a_time_and_in_bulk(raw: bytes) -> None:
    with pytest.raises(NotAnEnvelope):
        repeated_fields(raw)
    assert repeated_fields_of([CANONICAL, raw]) is None


def test_in_bulk_every_envelope_is_read_in_order() -> None:
    assert repeated_fields_of([WITH_TRAPS, CANONICAL]) == [repeated_fields(WITH_TRAPS), repeated_fields(CANONICAL)]
    assert repeated_fields_of([]) == []
