"""C2SP tlog-cosignature "cosignature/v1" (c2sp.org/tlog-cosignature), Ed25519: what a witness signs, and when.

A witness (见证方) cosigns (联署) a checkpoint by adding a signed-note signature line whose key has signature
type 0x04 (see `shared.signednote` for keys and lines). Unlike a plain Ed25519 note signature (type 0x01), a
cosignature/v1 carries a timestamp (时间戳), and the timestamp is part of what is signed:

- signed message: the UTF-8 bytes of ``"cosignature/v1\\n" "time <T>\\n"`` followed by the checkpoint's note
  text (final newline included, signature lines excluded), T the POSIX time in seconds as an ASCII decimal
  without leading zeros;
- signature bytes after the 4-byte key ID: T as a big-endian uint64 (8 bytes) || Ed25519 signature (64).

Its meaning, per the specification: as of time T, this checkpoint is the largest consistent tree head the
witness has seen for the log its origin line names. This module is pure: bytes in, bytes out, no keys.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

COSIGNATURE_V1_TYPE = 0x04
"""Signature type byte of Ed25519 cosignature/v1 keys (in key IDs and vkeys)."""

MAX_TIMESTAMP = 2**63 - 1
"""The specification caps the uint64 timestamp at 2^63 - 1."""

MAX_AHEAD_S = 600
"""A cosignature timestamped more than this many seconds after the checker's clock is refused (时钟偏差上限).

The specification lets verifiers reject future timestamps; ten minutes absorbs ordinary clock drift
between a witness and the ledger while a witness cannot vouch for a time that has not come.
"""

_HEADER = b"cosignature/v1\n"
_TIMESTAMP = struct.Struct(">Q")
_ED25519_SIGNATURE_SIZE = 64
SIGNATURE_SIZE = _TIMESTAMP.size + _ED25519_SIGNATURE_SIZE
"""Bytes after the key ID in a cosignature/v1 line: timestamp (8) and Ed25519 signature (64)."""


class CosignatureError(ValueError):
    """A cosignature/v1 signature is malformed, or its timestamp is out of range or ahead of the clock."""


def signed_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, ``time <T>`` line, then the note text ``text``."""
    _check_range(timestamp)
    # str(int) is the decimal without leading zeros ("0" for zero) that the specification requires.
    return _HEADER + b"time " + str(timestamp).encode("ascii") + b"\n" + text


def encode(timestamp: int, signature: bytes) -> bytes:
    """The ``timestamped_signature`` structure: big-endian uint64 timestamp || 64-byte Ed25519 signature."""
    _check_range(timestamp)
    if len(signature) != _ED25519_SIGNATURE_SIZE:
        raise CosignatureError(f"an Ed25519 signature has {_ED25519_SIGNATURE_SIZE} bytes, got {len(signature)}")
    return _TIMESTAMP.pack(timestamp) + signature


def decode(data: bytes) -> tuple[int, bytes]:
    """Split a ``timestamped_signature`` into its timestamp and Ed25519 signature; strict about sizes and range."""
    if len(data) != SIGNATURE_SIZE:
        raise CosignatureError(f"a cosignature/v1 signature has {SIGNATURE_SIZE} bytes after the key ID "
                               f"(8-byte timestamp, 64-byte Ed25519 signature), got {len(data)}")
    (timestamp,) = _TIMESTAMP.unpack_from(data)
    _check_range(timestamp)
    return timestamp, data[_TIMESTAMP.size:]


def check_timestamp(timestamp: int, now: float, signed_at: float | None = None,
                    tolerance: int = MAX_AHEAD_S) -> None:
    """Raise `CosignatureError` when ``timestamp`` is more than ``tolerance`` seconds after ``now``, or before
    ``signed_at`` (when the checker knows the checkpoint was signed): a witness can vouch neither for a time to
    come nor for a checkpoint before it existed."""
    ahead = timestamp - now
    if ahead > tolerance:
        raise CosignatureError(f"timestamp {timestamp} ({format_time(timestamp)}) is {ahead:.0f} s ahead of "
                               f"the clock here; at most {tolerance} s is tolerated")
    if signed_at is not None and signed_at - timestamp > tolerance:
        raise CosignatureError(f"timestamp {timestamp} ({format_time(timestamp)}) is {signed_at - timestamp:.0f} s "
                               f"before the checkpoint was signed; at most {tolerance} s is tolerated")


def format_time(timestamp: int) -> str:
    """The timestamp as ISO 8601 UTC, for messages; a timestamp beyond the calendar is shown as a number."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"POSIX {timestamp}"


def _check_range(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
