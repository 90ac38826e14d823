"""The fast canonical path writes exactly what the RFC 8785 reference writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.canonical import CanonicalisationError, _fast_path_applies, canonical_bytes, reference_canonical_bytes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=1000, deadline=None)
@given(json_values)
def test_fast_path_equals_the_reference(value: Any) -> None:
    try:
        expected = reference_canonical_bytes(value)
    except CanonicalisationError:
        with pytest.raises(CanonicalisationError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


def test_fast_path_is_taken_for_envelope_like_values_and_refused_otherwise() -> None:
    assert _fast_path_applies({"a": ["x", 1, True, None, {"中文": "值\u2028"}]})
    assert not _fast_path_applies({"a": 1.5})
    assert not _fast_path_applies({"a": 2**53})
    assert not _fast_path_applies({"\U0001f600": 1})


def test_known_rfc8785_vector() -> None:
    # RFC 8785 section 3.2.3: key order by UTF-16 code units.
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O"}
    keys = [k for k in __import__("json").loads(canonical_bytes(value))]
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
