"""Range outcomes in position order: from worker processes, or from the coordinator's own connection.

Workers are separate processes because the per-row work (hashing, chains, the tree) is Python bound
to one core; each has its own PostgreSQL connection in the coordinator's exported snapshot. The
ranges are dealt out round robin, so range i comes from worker i mod n and is read in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import sys
from collections.abc import AsyncGenerator, Sequence

import asyncpg

from shared.verify import ranges


async def in_process(conn: asyncpg.Connection, spans: Sequence[ranges.Span]) -> AsyncGenerator[ranges.Outcome, None]:
    """Check the ranges one after another on `conn` (small ledgers, or one core), inside its transaction."""
    await conn.execute(ranges.SETTINGS)
    for span in spans:
        yield ranges.check(span, await ranges.fetch(conn, span))


class Workers:
    """`count` worker processes (`shared.verify.worker`) checking `spans` inside `snapshot`."""

    def __init__(self, dsn: str, snapshot: str, spans: Sequence[ranges.Span], count: int) -> None:
        """Nothing runs before `start`."""
        self.dsn = dsn
        self.snapshot = snapshot
        self.spans = list(spans)
        self.count = max(1, min(count, len(self.spans)))
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        """Start the workers, each with its share of the ranges."""
        for i in range(self.count):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shared.verify.worker", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE)
            self.procs.append(proc)
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps((self.dsn, self.snapshot, self.spans[i::self.count])))
            await proc.stdin.drain()
            proc.stdin.close()

    async def outcomes(self) -> AsyncGenerator[ranges.Outcome, None]:
        """Every range's outcome in order, after `start`; a worker that stops short gives a not-clean one."""
        try:
            for i, span in enumerate(self.spans):
                stdout = self.procs[i % self.count].stdout
                assert stdout is not None
                try:
                    length = int.from_bytes(await stdout.readexactly(4), "big")
                    outcome = pickle.loads(await stdout.readexactly(length))
                except asyncio.IncompleteReadError:
                    outcome = ranges.Outcome(span, clean=False)
                yield outcome
                if not outcome.clean:
                    return
            # Every outcome is in: let the workers end their transactions and close their connections.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(proc.wait() for proc in self.procs)), 10)
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Kill every worker still running (one whose outcomes are no longer wanted) and reap them all."""
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
        for proc in self.procs:
            await proc.wait()
        self.procs.clear()
