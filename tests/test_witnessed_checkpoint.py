"""The newest checkpoint every witness cosigned (a bundle's `witnessed` / `prefer_witnessed`), table-tested on the
statement itself in a scratch database: given checkpoints and first cosignatures, when a position and the
configured witnesses are asked for, then this checkpoint, or none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from services.ledger.proofs import _WITNESSED_COVERING
from tests import support
from tests.support import System


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]  # the checkpoints' sizes, in the order they were signed (ids 1, 2, ...)
    cosigned: dict[str, tuple[int, ...]]  # witness -> the checkpoints (1-based) it first cosigned
    position: int
    witnesses: tuple[str, ...]
    expected: int | None  # the checkpoint (1-based) the statement answers
    renewed: dict[str, tuple[int, ...]] | None = None  # witness -> checkpoints it only renewed


CASES = [
    Case("both witnesses cosigned the newest", (10, 20, 30), {"A": (1, 2, 3), "B": (1, 2, 3)}, 5, ("A", "B"), 3),
    Case("one witness lags: the newest both cosigned", (10, 20, 30, 40, 50), {"A": (1, 2, 3, 4, 5), "B": (1, 2)},
         5, ("A", "B"), 2),
    Case("witnesses that took turns meet on an older one", (10, 20, 30, 40, 50), {"A": (1, 3, 5), "B": (1, 2, 4)},
         5, ("A", "B"), 1),
    Case("a witness that never cosigned", (10, 20), {"A": (1, 2)}, 5, ("A", "B"), None),
    Case("the newest witnessed is short of the position", (10, 20, 30), {"A": (1, 2, 3), "B": (1, 2)},
         25, ("A", "B"), None),
    Case("renewals are not first cosignatures", (10, 20, 30), {"A": (1, 2, 3), "B": (1,)}, 5, ("A", "B"), 1,
         renewed={"B": (3,)}),
    Case("a witness not configured does not count", (10, 20, 30), {"A": (1, 2, 3), "C": (1, 2, 3), "B": (1,)},
         5, ("A", "B"), 1),
    Case("signed out of size order: the largest wins", (10, 30, 20), {"A": (1, 2, 3), "B": (1, 2, 3)},
         5, ("A", "B"), 2),
    Case("out of size order, the bound is by id, not by size", (10, 30, 20, 40), {"A": (1, 2, 3, 4), "B": (2, 3)},
         15, ("A", "B"), 2),
    Case("one witness", (10, 20, 30), {"A": (1, 2)}, 15, ("A",), 2),
]


@pytest.fixture(scope="module")
async def scratch(system: System) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(await support.scratch_database(system, "witnessed_checkpoint"))
    yield conn
    await conn.close()


async def _given(conn: asyncpg.Connection, case: Case, tag: str) -> list[int]:
    """The case's checkpoints and cosignatures, under witness names of its own (the tables are append-only, so
    every case writes beside the others, and a checkpoint without its witnesses' cosignatures is never chosen)."""
    ids = [await conn.fetchval("INSERT INTO checkpoints (origin, size, root, note) VALUES ($1, $2, $3, 'note') "
                               "RETURNING id", tag, size, bytes(32)) for size in case.sizes]
    for renewal, cosigned in ((False, case.cosigned), (True, case.renewed or {})):
        for witness, which in cosigned.items():
            for n in which:
                await conn.execute("INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note, renewal, "
                                   "stated_at) VALUES ($1, $2, 'cosigned', $3, $4)", ids[n - 1], witness + tag,
                                   renewal, 1 if renewal else None)
    return ids


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_the_newest_checkpoint_every_witness_cosigned(scratch: asyncpg.Connection, case: Case) -> None:
    tag = f"-{CASES.index(case)}"
    ids = await _given(scratch, case, tag)
    row = await scratch.fetchrow(_WITNESSED_COVERING, case.position, [w + tag for w in case.witnesses])
    answer = None if row is None else ids.index(row["id"]) + 1
    assert answer == case.expected
