"""Read models yield to a writer backlog: while the ledger writer has many stream messages still to commit,
the projector works only part of the time, so the two cores go to making those events durable first.

The read models are projections, rebuilt from the ledger at will; the ledger is the record. After an outage
the writer drains what JetStream kept meanwhile, and a projector working flat out beside it takes about a
third of PostgreSQL's time (the audit statements of every event it applies) from the writer. The projector
keeps going at a reduced share (it is never starved) and is back at full speed once the backlog is below the
threshold; it then catches up in large rounds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import asyncpg
import nats.errors
from nats.js import JetStreamContext

from services.ledger.monitor import Observed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class YieldPolicy:
    """When and how much the projector yields: at `threshold` messages of backlog or more (0: never), it
    works `share` of the time."""

    threshold: int
    share: float

    def applies(self, backlog: int) -> bool:
        """Whether a writer with `backlog` messages to commit has the read models yield."""
        return 0 < self.threshold <= backlog

    def rest(self, backlog: int, worked_s: float) -> float:
        """Seconds to rest after a round that took `worked_s`, while the writer has `backlog` messages to commit."""
        if not self.applies(backlog):
            return 0.0
        return worked_s * (1 - self.share) / self.share


class WriterBacklog:
    """Stream messages the writer has not committed yet: the stream's last sequence (JetStream) minus the
    writer's consumer checkpoint (PostgreSQL), as the ledger's `ledger_lag_messages` gauge counts them.

    Read at most once every `refresh_s`; when NATS does not answer, the backlog counts as none (the projector
    then works at full speed rather than wait on a number it cannot read).
    """

    def __init__(self, js: JetStreamContext, stream: str, consumer: str, refresh_s: float = 1.0,
                 timeout: float = 5.0) -> None:
        self.js = js
        self.stream = stream
        self.consumer = consumer
        self.refresh_s = refresh_s
        self.timeout = timeout
        self._value = 0
        self._read_at = -float("inf")

    async def messages(self, conn: asyncpg.Connection) -> int:
        """The backlog, read again when the last reading is older than `refresh_s`."""
        if time.monotonic() - self._read_at < self.refresh_s:
            return self._value
        self._read_at = time.monotonic()
        try:
            info = await asyncio.wait_for(self.js.stream_info(self.stream), self.timeout)
        except (nats.errors.Error, TimeoutError) as exc:
            log.debug("stream info unavailable; read models work at full speed", extra={"error": str(exc)})
            self._value = 0
            return 0
        committed = await conn.fetchval("SELECT stream_seq FROM consumer_checkpoint WHERE consumer = $1",
                                        self.consumer)
        self._value = Observed(stream_last_seq=int(info.state.last_seq), committed_seq=int(committed or 0)).lag
        return self._value


class Pacer:
    """The projector's rests while the writer drains a backlog (none without one)."""

    def __init__(self, policy: YieldPolicy, backlog: WriterBacklog) -> None:
        self.policy = policy
        self.backlog = backlog
        self.yielding = False

    async def rest_after(self, conn: asyncpg.Connection, worked_s: float) -> float:
        """Seconds to rest after a round of the read models that took `worked_s`."""
        if self.policy.threshold <= 0:
            return 0.0
        backlog = await self.backlog.messages(conn)
        if self.policy.applies(backlog) != self.yielding:
            self.yielding = not self.yielding
            if self.yielding:
                log.info("read models (读模型) yield to the writer's backlog", extra={
                    "backlog": backlog, "share": self.policy.share})
            else:
                log.info("writer's backlog drained; read models at full speed", extra={"backlog": backlog})
        return self.policy.rest(backlog, worked_s)
