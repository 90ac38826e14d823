"""envelope_data reads `data` from the slice of canonical bytes that holds it: the same as parsing them whole."""

from __future__ import annotations

import orjson
import pytest

from shared.envelope import envelope_data, parse_event
from shared.events.audit import AuditCompleted, Finding
from tests.support import audit_event

# data strings that spell the keys the slice is cut at, with quotes, backslashes and CJK
TRICKY = ',"dataschema":"x","datacontenttype":"application/json"},"data":{"county":"430000"} \\" \\\\ 审计'


def _stored(obj: dict[str, object], subject: str) -> bytes:
    """The bytes the ledger would store for this envelope (validated and canonicalised)."""
    return parse_event(orjson.dumps(obj), subject).canonical


def _envelope(**changes: object) -> bytes:
    event = audit_event("SLICE1")
    obj = orjson.loads(event.canonical())
    obj.update(changes)
    obj = {k: v for k, v in obj.items() if v is not None}
    return _stored(obj, event.nats_subject)


TRICKY_DATA = AuditCompleted(
    audit_id="A1", audit_type="in_office", report_number=TRICKY[:60], evaluation="good",
    findings=[Finding(finding_id="F1", category=3, amount="12.50", responsibility="direct", description=TRICKY)],
).model_dump(mode="json", exclude_none=True)


@pytest.mark.parametrize("raw", [
    _envelope(),
    _envelope(datacontenttype=None),  # the publisher left out the optional datacontenttype
    _envelope(data=TRICKY_DATA),
    _envelope(data=TRICKY_DATA, datacontenttype=None),
    b' {"county":"431021","data":{"a":1},"dataschema":"s"}',  # not opening as canonical bytes do
    b'{"data":{"a":"b"},"county":"431021","dataschema":"s"}',  # keys out of order
    b'{"county":"431021","data":{"a":[1,{"b":null}]}}',  # nothing after data
], ids=["canonical", "no-datacontenttype", "tricky-strings", "tricky-no-datacontenttype", "leading-space",
        "unsorted", "data-last"])
def test_the_slice_parses_to_the_whole_parse(raw: bytes) -> None:
    assert envelope_data(raw) == orjson.loads(raw)["data"]


def test_bytes_that_are_not_json_are_refused() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        envelope_data(b'{"county":"431021","data":{oops},"dataschema":"s"}')
