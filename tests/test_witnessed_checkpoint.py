"""The witness statements, table-tested on the statements themselves in a scratch database: given checkpoints,
first cosignatures and renewals, when a position and the configured witnesses are asked for, then the newest
checkpoint every witness cosigned (a bundle's `witnessed` / `prefer_witnessed`), or none; and how far each
witness got, for the ledger's witness gauges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from services.ledger.monitor import _WITNESSED
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


async def _checkpoints(conn: asyncpg.Connection, origin: str, sizes: tuple[int, ...]) -> list[int]:
    """Store checkpoints of these sizes, in this order; their ids."""
    return [await conn.fetchval("INSERT INTO checkpoints (origin, size, root, note) VALUES ($1, $2, $3, 'note') "
                                "RETURNING id", origin, size, bytes(32)) for size in sizes]


async def _cosign(conn: asyncpg.Connection, checkpoint_id: int, witness: str, renewal: bool, stated_at: int) -> None:
    """Store a witness's first cosignature of a checkpoint, or a renewal of it stating `stated_at`."""
    await conn.execute("INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note, renewal, stated_at) "
                       "VALUES ($1, $2, 'cosigned', $3, $4)", checkpoint_id, witness, renewal,
                       stated_at if renewal else None)


async def _given(conn: asyncpg.Connection, case: Case, tag: str) -> list[int]:
    """The case's checkpoints and cosignatures, under witness names of its own (the tables are append-only, so
    every case writes beside the others, and a checkpoint without its witnesses' cosignatures is never chosen)."""
    ids = await _checkpoints(conn, tag, case.sizes)
    for renewal, cosigned in ((False, case.cosigned), (True, case.renewed or {})):
        for witness, which in cosigned.items():
            for n in which:
                await _cosign(conn, ids[n - 1], witness + tag, renewal, 1)
    return ids


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_the_newest_checkpoint_every_witness_cosigned(scratch: asyncpg.Connection, case: Case) -> None:
    tag = f"-{CASES.index(case)}"
    ids = await _given(scratch, case, tag)
    row = await scratch.fetchrow(_WITNESSED_COVERING, case.position, [w + tag for w in case.witnesses])
    answer = None if row is None else ids.index(row["id"]) + 1
    assert answer == case.expected


@dataclass(frozen=True)
class Progress:
    name: str
    sizes: tuple[int, ...]
    cosigned: tuple[tuple[int, bool], ...]  # (checkpoint, renewal), in the order stored
    expected_size: int | None  # of the newest checkpoint the witness has a first cosignature of


PROGRESS = [
    Progress("renewals stored since do not hide how far it got", (10, 20, 30),
             ((1, False), (2, False)) + ((2, True),) * 50, 20),
    Progress("a first cosignature of an older checkpoint stored later", (10, 20, 30), ((3, False), (1, False)), 30),
    Progress("only renewals", (10, 20), ((2, True),), None),
    Progress("never cosigned", (10, 20), (), None),
]


@pytest.mark.parametrize("case", PROGRESS, ids=[c.name for c in PROGRESS])
async def test_the_gauges_read_the_newest_checkpoint_a_witness_cosigned(scratch: asyncpg.Connection,
                                                                        case: Progress) -> None:
    witness = f"gauge-{PROGRESS.index(case)}"
    ids = await _checkpoints(scratch, "g", case.sizes)
    for stated_at, (n, renewal) in enumerate(case.cosigned):
        await _cosign(scratch, ids[n - 1], witness, renewal, stated_at)
    [row] = await scratch.fetch(_WITNESSED, [witness])
    assert row["size"] == case.expected_size
    assert (row["at"] is None) == (not case.cosigned), "when the latest cosignature or renewal was stored"
