"""A range-checking worker process: ``python -m shared.verify.worker``, started by `parallel.Workers`.

It reads (dsn, snapshot, ranges) as one pickle from stdin, reads the ledger in the coordinator's
exported snapshot, so every worker sees the very rows the coordinator sees, and writes one frame per
range to stdout: a 4-byte big-endian length, then the pickled `ranges.Outcome`. The next range's
query runs in PostgreSQL while this one is hashed here. It stops after the first range that is not
clean. A full pipe blocks it, so it never runs far ahead of the coordinator.
"""

from __future__ import annotations

import asyncio
import pickle
import re
import sys
from typing import BinaryIO

import asyncpg

from shared.collector import tune_collector
from shared.verify import ranges

_SNAPSHOT = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


def send(out: BinaryIO, outcome: ranges.Outcome) -> None:
    """Write one length-prefixed frame."""
    frame = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(frame).to_bytes(4, "big") + frame)
    out.flush()


async def work(dsn: str, snapshot: str, spans: list[ranges.Span], out: BinaryIO) -> None:
    """Check `spans` in order inside `snapshot`, writing each outcome to `out`."""
    if not _SNAPSHOT.match(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    pending: asyncio.Future[ranges.Fetched] | None = None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            await conn.execute(ranges.SETTINGS)
            pending = asyncio.ensure_future(ranges.fetch(conn, spans[0])) if spans else None
            for i, span in enumerate(spans):
                assert pending is not None
                fetched = await pending
                pending = None
                if i + 1 < len(spans):
                    pending = asyncio.ensure_future(ranges.fetch(conn, spans[i + 1]))
                    await asyncio.sleep(0)  # let the next query go out before hashing this range
                outcome = ranges.check(span, fetched)
                send(out, outcome)
                if not outcome.clean:
                    break
            if pending is not None:
                await pending
    finally:
        await conn.close()


def main() -> None:
    """Entry point: arguments on stdin, outcomes on stdout."""
    dsn, snapshot, spans = pickle.load(sys.stdin.buffer)
    tune_collector()
    asyncio.run(work(dsn, snapshot, spans, sys.stdout.buffer))


if __name__ == "__main__":
    main()
