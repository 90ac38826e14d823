"""A bundle file (履历包文件) read strictly and verified offline: no database, no network.

`shared.bundle.verify_bundle` checks what a bundle means; reading the file here also rejects every
other spelling of the same content (uppercase hex, non-canonical base64), so that no byte of an
exported file can change without the check failing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from shared.bundle import BundleError, BundleReport, verify_bundle
from shared.signednote import Verifier

_HEX = re.compile(r"(?:[0-9a-f]{2})*")
# `cosignatures` may be absent: bundles exported before witnesses' cosignatures travelled with them
_MEMBERS = frozenset({"format", "cadre_id", "checkpoint", "cosignatures", "head", "events"})


def load_bundle_file(path: Path) -> dict[str, Any]:
    """Read a bundle file strictly: JSON, lowercase hex and canonical base64, so no byte can change silently."""
    try:
        bundle = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or not isinstance(bundle.get("events"), list):
        raise BundleError(f"{path} is not a bundle (no events list)")
    if unknown := set(bundle) - _MEMBERS:
        raise BundleError(f"{path} has members a bundle does not: {', '.join(sorted(unknown))}")
    for n, item in enumerate(bundle["events"], start=1):
        if not isinstance(item, dict):
            raise BundleError(f"event {n}: not an object")
        hexes = [item.get("leaf_hash"), *(item.get("inclusion_proof") or [])]
        if item.get("prev_hash") is not None:
            hexes.append(item["prev_hash"])
        if not all(isinstance(h, str) and _HEX.fullmatch(h) for h in hexes):
            raise BundleError(f"event {n}: hashes must be lowercase hex")
        encoded = item.get("canonical")
        try:
            if not isinstance(encoded, str) or base64.b64encode(base64.b64decode(encoded, validate=True)).decode() \
                    != encoded:
                raise BundleError(f"event {n}: canonical bytes must be canonical base64")
        except binascii.Error as exc:
            raise BundleError(f"event {n}: canonical bytes are not base64: {exc}") from exc
    return dict(bundle)


def verify_bundle_file(path: Path, verifiers: Sequence[Verifier], witnesses: Sequence[Verifier] = ()) -> BundleReport:
    """Verify a bundle file offline (no database, no network); raise `BundleError` naming what fails."""
    return verify_bundle(load_bundle_file(path), list(verifiers), witnesses)
