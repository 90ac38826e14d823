"""Ids that sort by creation: UUID version 7 (RFC 9562), for events and access records.

A v7 id opens with the Unix time in milliseconds and fills the rest with random bits, so ids made later sort
later. The ledger and the access trail keep a unique index on these ids; random (version 4) ids land on any
page of it, and the index grows by splitting pages all over, while time-ordered ids go in at its right edge.
Measured on the benchmark machine, 1,000,000 ledger-shaped rows copied in batches of 3,000 into a table with
the ledger's indexes: 19.4 and 20.9 s with version 4 ids, 17.3 and 18.6 s with version 7, the last 100,000
rows 2.4 and 2.2 s against 1.7 and 1.8. The time in an id is the publisher's clock, which the envelope's
`time` carries anyway; nothing reads it back, and nothing needs ids to be in order: a late or skewed clock
costs only locality.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0x2 << 62  # RFC 9562 (10xx)
_RAND_A = 0xFFF << 64
_RAND_B = (1 << 62) - 1


def time_ordered_id(now_ms: int | None = None) -> uuid.UUID:
    """A new UUIDv7: `now_ms` (default: the clock) in its first 48 bits, 74 random bits after the version and
    variant."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=((ms & 0xFFFF_FFFF_FFFF) << 80) | _VERSION | ((rand << 2) & _RAND_A) | _VARIANT
                     | (rand & _RAND_B))
