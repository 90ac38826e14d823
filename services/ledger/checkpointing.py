"""When the writer signs a checkpoint of the log, and where it publishes it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

from services.ledger import tree
from shared.merkle import CompactRange
from shared.signednote import Signer

log = logging.getLogger(__name__)

Publish = Callable[[tree.StoredCheckpoint], Awaitable[None]]
# Checkpoints stored but not yet published, at most: while JetStream is unreachable each publication waits out
# its timeout, and the oldest are dropped past this many (they stand in the database, and witnesses also poll
# the ledger over HTTP).
UNPUBLISHED_LIMIT = 1000


async def origin_of_log(conn: asyncpg.Connection) -> str | None:
    """The origin the log's newest checkpoint names (None before the first): the name it keeps for good."""
    origin: str | None = await conn.fetchval("SELECT origin FROM checkpoints ORDER BY size DESC, id DESC LIMIT 1")
    return origin


def same_origin(configured: str, named: str | None) -> None:
    """SystemExit when `CADRE_LOG_ORIGIN` is not the origin the log's checkpoints name.

    Witnesses refuse a checkpoint of another origin as another log's, and an auditor's browser remembers the log by
    it: a changed origin would stop every witness and let a rewritten log pass as first seen.
    """
    if named is not None and named != configured:
        raise SystemExit(f"CADRE_LOG_ORIGIN={configured!r} is not this log's origin: its checkpoints name {named!r} "
                         "(日志名称不符). A log keeps its origin for good (witnesses and auditors know it by that "
                         "name): set CADRE_LOG_ORIGIN back to it")


class CheckpointPolicy:
    """Sign after `every_n` new leaves, or after `every_s` seconds when the log grew.

    Under load the writer signs while it plans a batch (`plan`) and stores the checkpoint in that
    batch's transaction; when idle it signs what was committed on its own (`maybe_sign`).
    """

    def __init__(self, signer: Signer, origin: str, every_n: int, every_s: float, publish: Publish) -> None:
        self.signer = signer
        self.origin = origin
        self.every_n = every_n
        self.every_s = every_s
        self.publish = publish
        self.last_size = 0  # of the newest checkpoint signed (maybe still committing with its batch)
        self.last_at = time.monotonic()
        self._unpublished: deque[tree.StoredCheckpoint] = deque()
        self._publisher: asyncio.Task[None] | None = None

    async def resume(self, conn: asyncpg.Connection) -> None:
        """Continue from the newest stored checkpoint (after an election)."""
        latest = await tree.latest_checkpoint(conn)
        self.last_size = latest.size if latest else 0
        self.last_at = time.monotonic()

    def _due(self, size: int) -> bool:
        grown = size - self.last_size
        return grown > 0 and (grown >= self.every_n or time.monotonic() - self.last_at >= self.every_s)

    def plan(self, log_tree: CompactRange) -> tree.SignedCheckpoint | None:
        """When one is due: a checkpoint of `log_tree`, signed now, for the batch that grows the log to it."""
        if not self._due(log_tree.size):
            return None
        self.last_size, self.last_at = log_tree.size, time.monotonic()
        return tree.sign_checkpoint(self.signer, self.origin, log_tree.size, log_tree.root())

    async def maybe_sign(self, conn: asyncpg.Connection, log_tree: CompactRange) -> None:
        """Sign, store and publish a checkpoint of the committed log when one is due."""
        if not self._due(log_tree.size):
            return
        checkpoint = await tree.store_checkpoint(conn, self.signer, self.origin, log_tree.size, log_tree.root())
        self.last_size, self.last_at = checkpoint.size, time.monotonic()
        self.publish_soon(checkpoint)

    def publish_soon(self, checkpoint: tree.StoredCheckpoint) -> None:
        """Publish a stored checkpoint after those stored before it, without waiting for JetStream.

        The writer stores a checkpoint in a batch's transaction, and the next batch commits only once that
        one's commit has returned: waiting there for the stream's acknowledgement tied the ledger's intake
        to the checkpoint stream, and a slow or failing one held every batch carrying a checkpoint for up
        to the publication's timeout (5 s). Publications keep their signing order.
        """
        if len(self._unpublished) >= UNPUBLISHED_LIMIT:
            dropped = self._unpublished.popleft()
            log.warning("checkpoint not published: too many waiting", extra={"size": dropped.size})
        self._unpublished.append(checkpoint)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_waiting())

    async def _publish_waiting(self) -> None:
        while self._unpublished:
            checkpoint = self._unpublished.popleft()
            try:
                await asyncio.wait_for(self.publish(checkpoint), 5)
            except Exception as exc:  # the stored checkpoint stands, and witnesses also poll it over HTTP
                log.warning("checkpoint not published: %s", exc, extra={"size": checkpoint.size})
