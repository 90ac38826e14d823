"""The writer's inbox: the messages JetStream pushes to the writer, held in delivery order until a batch takes them.

How long a batch waits for more (`linger`), and how large it may grow when a backlog is waiting, is decided here;
what is done with a batch is the writer's (`services.ledger.writer`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg

FLOW_CONTROL_REQUEST = "FlowControl Request"
CONSUMER_STALLED = "Nats-Consumer-Stalled"


class Inbox:
    """Messages JetStream pushed to the writer, in delivery order, until a batch takes them.

    The consumer pushes with flow control: once it has sent a window of bytes (up to 32 MiB) it asks for an answer
    and sends no more until it has one. The inbox answers when a batch has taken every message that came before
    the request, so what waits here and on the wire stays within that window, however large the messages are.
    Without it JetStream pushed up to `max_ack_pending` messages at once: with messages of 1 MB, more than NATS
    lets wait for one connection (64 MiB), which NATS then closed as a slow consumer, the messages coming back
    only after `ack_wait`. `answer(subject)` publishes the answer (an empty message).
    """

    def __init__(self, answer: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.msgs: list[Msg] = []
        self.answer = answer
        self.held: list[tuple[int, str]] = []  # flow control requests: (messages before it still here, subject)
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
        elif msg.headers and msg.headers.get("Status") == "100":
            # A flow control request, or an idle heartbeat naming the request the consumer is stalled on (the
            # request itself was lost): answered once the messages before it are taken.
            request = msg.reply if msg.headers.get("Description") == FLOW_CONTROL_REQUEST else \
                msg.headers.get(CONSUMER_STALLED)
            if request:
                self.held.append((len(self.msgs), request))
                await self._answer(0)

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
        if self.held:
            await self._answer(len(batch))
        return batch

    async def _answer(self, taken: int) -> None:
        """Answer the flow control requests whose messages before them are all taken (`taken` more just now)."""
        held, self.held = self.held, []
        for before, subject in held:
            if before > taken:
                self.held.append((before - taken, subject))
            elif self.answer is not None:
                await self.answer(subject)


def flow_control_probe(stream: str, consumer: str) -> str:
    """A subject of the consumer's flow control answers (`$JS.FC.<stream>.<consumer>.<token>`) that answers nothing:
    JetStream ignores an answer to a request it did not send, so publishing to it only shows whether the server lets
    the writer answer at all."""
    return f"$JS.FC.{stream}.{consumer}.probe"


def stream_seq(reply: str) -> int:
    """The stream sequence in a JetStream ack subject (both the v1 and the v2 token layouts)."""
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[Msg.Ack.StreamSeq])
