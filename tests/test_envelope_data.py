"""envelope_data reads `data` from the slice of canonical bytes that holds it: the same as parsing them whole."""

from __future__ import annotations

import orjson
import pytest

from shared.envelope import envelope_data
from shared.events import CATALOGUE
from tests.support import NOT_LAID_OUT_CANONICALLY, stored_completion


@pytest.mark.parametrize("raw", [
    stored_completion("SLICE1"),
    stored_completion("SLICE1", content_type=False),  # the publisher left out the optional datacontenttype
    stored_completion("SLICE1", traps=True),  # data strings that spell the keys the slice is cut at
    stored_completion("SLICE1", traps=True, content_type=False),
    *NOT_LAID_OUT_CANONICALLY,
], ids=["canonical", "no-datacontenttype", "tricky-strings", "tricky-no-datacontenttype", "leading-space",
        "unsorted", "data-last"])
def test_the_slice_parses_to_the_whole_parse(raw: bytes) -> None:
    assert envelope_data(raw) == orjson.loads(raw)["data"]


def test_bytes_that_are_not_json_are_refused() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        envelope_data(b'{"county":"431021","data":{oops},"dataschema":"s"}')


def _object_keys(schema: object) -> tuple[set[str], list[object]]:
    """Every property name anywhere in a JSON Schema, and every object schema that allows keys it does not name."""
    names: set[str] = set()
    open_objects: list[object] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            if node.get("additionalProperties") not in (None, False):
                open_objects.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names, open_objects


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_no_data_schema_can_hold_the_key_the_slice_is_cut_at(event_type: str) -> None:
    # The slice (here and in ledger_event_data) ends at the first `,"dataschema":"`: that is the envelope's
    # own only while no `data`, however nested, can have such a key. A new schema that allows one must
    # change both, not this test.
    names, open_objects = _object_keys(CATALOGUE[event_type].json_schema())
    assert not names & {"dataschema", "datacontenttype"} and open_objects == []
