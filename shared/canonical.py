"""RFC 8785 (JSON Canonicalization Scheme) bytes: what the ledger stores and hashes."""

from __future__ import annotations

from typing import Any

import rfc8785


class CanonicalisationError(ValueError):
    """The value has no canonical JSON form (e.g. a float that is NaN, or a non-JSON type)."""


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalisationError(str(exc)) from exc
