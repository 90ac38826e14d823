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
    """`count` worker processes (`shared.verify.worker`), each checking every count-th range.

    `spawn` starts them before there is work for them: a worker's start-up (Python and its imports,
    about a tenth of a second) then overlaps the coordinator's verifying of the signed checkpoints.
    `start` hands them the snapshot and their ranges.
    """

    def __init__(self, count: int) -> None:
        """Nothing runs before `spawn`."""
        self.count = count
        self.spans: list[ranges.Span] = []
        self.procs: list[asyncio.subprocess.Process] = []

    async def spawn(self) -> None:
        """Start the processes; each waits for its arguments."""
        for _ in range(self.count):
            self.procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shared.verify.worker", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE))

    async def start(self, dsn: str, snapshot: str, spans: Sequence[ranges.Span]) -> None:
        """Give every worker its share of `spans` (at least `count` of them), to check inside `snapshot`."""
        self.spans = list(spans)
        for i, proc in enumerate(self.procs):
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps((dsn, snapshot, self.spans[i::self.count])))
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
