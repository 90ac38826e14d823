"""envelope_data reads `data` from the slice of canonical bytes that holds it: the same as parsing them whole."""

from __future__ import annotations

import orjson
import pytest

from shared.envelope import envelope_data
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
