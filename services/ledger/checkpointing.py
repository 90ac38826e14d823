"""When the writer signs a checkpoint of the log, and where it publishes it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from services.ledger import tree
from shared.merkle import CompactRange
from shared.signednote import Signer

log = logging.getLogger(__name__)

Publish = Callable[[tree.StoredCheckpoint], Awaitable[None]]


class CheckpointPolicy:
    """Sign after `every_n` new leaves, or after `every_s` seconds when the log grew."""

    def __init__(self, signer: Signer, origin: str, every_n: int, every_s: float, publish: Publish) -> None:
        self.signer = signer
        self.origin = origin
        self.every_n = every_n
        self.every_s = every_s
        self.publish = publish
        self.last_size = 0
        self.last_at = time.monotonic()
        self.latest: tree.StoredCheckpoint | None = None

    async def resume(self, conn: asyncpg.Connection) -> None:
        """Continue from the newest stored checkpoint (after an election)."""
        self.latest = await tree.latest_checkpoint(conn)
        self.last_size = self.latest.size if self.latest else 0
        self.last_at = time.monotonic()

    async def maybe_sign(self, conn: asyncpg.Connection, log_tree: CompactRange) -> None:
        """Sign and publish a checkpoint when the policy says it is due."""
        grown = log_tree.size - self.last_size
        if grown <= 0:
            return
        if grown < self.every_n and time.monotonic() - self.last_at < self.every_s:
            return
        checkpoint = await tree.store_checkpoint(conn, self.signer, self.origin, log_tree.size, log_tree.root())
        self.latest, self.last_size, self.last_at = checkpoint, checkpoint.size, time.monotonic()
        try:
            await asyncio.wait_for(self.publish(checkpoint), 5)
        except Exception as exc:  # the stored checkpoint stands; witnesses also poll it over HTTP
            log.warning("checkpoint not published: %s", exc, extra={"size": checkpoint.size})
