"""The writer's inbox: the messages JetStream pushes to the writer, held in delivery order until a batch takes them.

How long a batch waits for more (`linger`), and how large it may grow when a backlog is waiting, is decided here;
what is done with a batch is the writer's (`services.ledger.writer`).
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.msg import Msg


class Inbox:
    """Messages JetStream pushed to the writer, in delivery order, until a batch takes them."""

    def __init__(self) -> None:
        self.msgs: list[Msg] = []
        self.ready = asyncio.Event()
        self.enough = asyncio.Event()
        self.wanted = 1  # how many messages make `enough` (a lingering take waits for a full batch)
        self.first_at = 0.0  # when the oldest waiting message arrived (event loop time)
        self.leftover = False  # the waiting messages are what a full batch left: they are taken at once
        self.waited = 0.0  # how long the oldest message of the last batch taken had waited for it

    async def on_msg(self, msg: Msg) -> None:
        """Subscription callback: keep stream messages (status messages carry no ack subject)."""
        if msg.reply and msg.reply.startswith("$JS.ACK."):
            self.msgs.append(msg)
            if len(self.msgs) == 1:
                self.first_at = asyncio.get_running_loop().time()
                self.leftover = False
                self.ready.set()
            if len(self.msgs) >= self.wanted:
                self.enough.set()

    async def take(self, limit: int, backlog_limit: int, timeout: float, linger: float = 0.0) -> list[Msg]:
        """Whatever has arrived, waiting up to `timeout` for the first: up to `limit` messages, or `backlog_limit`
        when at least that many are waiting.

        `linger`: a batch short of `limit` is taken only once its oldest message has waited that long (or the
        batch fills). A batch has a fixed cost (a transaction, its fsync and round trips, an ack); taking
        whatever has arrived the moment the previous one is planned cut a trickle into batches of a few events,
        and that cost, paid hundreds of times a second, took the cores the writer and PostgreSQL needed.
        """
        if not self.msgs:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), timeout)
        loop = asyncio.get_running_loop()
        rest = self.first_at + linger - loop.time()
        if self.msgs and len(self.msgs) < limit and rest > 0 and not self.leftover:
            self.wanted = limit
            self.enough.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.enough.wait(), rest)
            self.wanted = 1
        if len(self.msgs) >= backlog_limit:
            limit = backlog_limit
        batch, self.msgs = self.msgs[:limit], self.msgs[limit:]
        if batch:
            self.waited = loop.time() - self.first_at
        # What is left waited already (it arrived after `first_at`, which stays as the bound of its wait), so the
        # next take does not linger for it.
        self.leftover = bool(self.msgs)
        return batch


def stream_seq(reply: str) -> int:
    """The stream sequence in a JetStream ack subject (both the v1 and the v2 token layouts)."""
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[Msg.Ack.StreamSeq])
