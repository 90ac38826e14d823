"""RFC 8785 (JSON Canonicalization Scheme) bytes: what the ledger stores and hashes.

The reference serialiser (`rfc8785`) is pure Python and dominated the ledger's intake cost. For
the JSON our envelopes use (strings, booleans, null, integers of magnitude below 2^53, objects whose keys are
in the Basic Multilingual Plane), orjson with sorted keys writes exactly the RFC 8785 bytes: the
same escapes (only `"`, `\\` and control characters, short forms where JSON has them) and the same
key order (code points equal UTF-16 code units inside the BMP). Anything else takes the reference
path. A property test holds the two to the same output.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import rfc8785

_SAFE_INT = 2**53


class CanonicalisationError(ValueError):
    """The value has no canonical JSON form (e.g. a float that is NaN, or a non-JSON type)."""


def _fast_path_applies(value: Any) -> bool:
    """True when orjson's sorted output is byte-identical to RFC 8785 for `value`.

    Iterative (no recursion limit); strings, the bulk of an envelope, are checked without being
    pushed on the stack, as this walk runs for every event the ledger takes in.
    """
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return False
            children = item.values()
        elif kind is list:
            children = item
        else:
            children = (item,)
        for child in children:
            kind = type(child)
            if kind is str or kind is bool or child is None:
                continue
            if kind is int:
                if -_SAFE_INT < child < _SAFE_INT:
                    continue
                return False
            if kind is dict or kind is list:
                push(child)
                continue
            return False  # floats (number formatting differs), tuples, other types
    return True


def duplicate_keys(json_text: bytes) -> list[str]:
    """The object keys JSON text gives more than once (RFC 8785 input must have unique names; parsers keep one
    value, mostly the last, and drop the others without a word). Call it on text already known to parse."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in items]
        found.extend(sorted({name for name in names if names.count(name) > 1}))
        return dict(items)

    json.loads(json_text, object_pairs_hook=pairs)
    return found


def unsafe_integers(value: Any) -> list[str]:
    """Where `value` holds integers of 2**53 or more in size, as dotted paths (`counts.excellent`, `findings.0`):
    RFC 8785 writes numbers as IEEE doubles, which hold no larger integer exactly, so no such value has a
    canonical form. Iterative, as any depth orjson parses may reach it."""
    found, stack = [], [("", value)]
    while stack:
        path, item = stack.pop()
        if type(item) is int and not -_SAFE_INT < item < _SAFE_INT:
            found.append(path)
        elif isinstance(item, dict | list):
            children = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((f"{path}.{key}" if path else str(key), child) for key, child in children)
    return sorted(found)


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar: 0). Iterative."""
    deepest, stack = 0, [(0, value)]
    while stack:
        depth, item = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend((depth + 1, child) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    if _fast_path_applies(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return reference_canonical_bytes(value)


def reference_canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes by the reference implementation (any JSON value, floats included)."""
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalisationError(str(exc)) from exc
