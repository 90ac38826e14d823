"""A TCP relay to PostgreSQL whose connections can be frozen: they stay open and pass nothing more, as a session cut
on the way (a failover, a network that drops packets) looks to its client: no FIN, no RST, no answer."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass


@dataclass
class Cut:
    """Freeze every relayed connection once a client sends `marker` (a statement's text): with `deliver`, after the
    message that holds it reaches PostgreSQL (the server runs it, its answer is lost); else before."""

    marker: bytes
    deliver: bool
    session: bytes | None = None
    """Only on a connection whose opening (its startup message) holds these bytes, e.g. an application_name, and
    only that connection frozen; None: the first connection that sends `marker`, and every connection frozen."""


class PgProxy:
    """Relays to PostgreSQL on `target_port`; `freeze()` now, or `cut_at(Cut)` when a client sends a statement.

    Connections opened after a freeze flow: a client that reconnects reaches the server, as after a failover."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.flowing: list[asyncio.Event] = []
        self.server: asyncio.Server | None = None
        self.cut: Cut | None = None
        self.frozen = asyncio.Event()
        self.frozen_at = 0.0  # event loop time of the freeze
        self.ends: list[asyncio.StreamWriter] = []  # both sides of every relayed connection

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def freeze(self, only: asyncio.Event | None = None) -> None:
        # the events stay listed: a frozen relay's task waits on its own, which nothing else would keep from the
        # garbage collector (a collected task closes its sockets, which is no cut at all)
        for flowing in self.flowing if only is None else [only]:
            flowing.clear()
        self.frozen_at = asyncio.get_running_loop().time()
        self.frozen.set()

    def cut_at(self, cut: Cut) -> None:
        self.cut = cut

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        flowing = asyncio.Event()
        flowing.set()
        self.flowing.append(flowing)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.ends += [writer, up_writer]

        opening = b""  # the client's first bytes: its startup message

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool) -> None:
            nonlocal opening
            tail = b""  # the end of what was read before, where a marker may begin
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    await flowing.wait()
                    cut, seen = self.cut, tail + data
                    if upstream and len(opening) < 4096:
                        opening += data
                    if cut is not None and cut.session is not None and cut.session not in opening:
                        cut = None  # not this connection's cut
                    if upstream and cut is not None and (at := seen.find(cut.marker)) >= 0:
                        self.cut = None
                        while (end := seen.find(b"\0", at)) < 0 and (more := await src.read(65536)):
                            data, seen = data + more, seen + more
                        if cut.deliver:  # a simple query's text ends with a NUL: it passes, nothing after it
                            dst.write(data[:max(0, end + 1 - len(tail))])
                            await dst.drain()
                        self.freeze(flowing if cut.session is not None else None)
                        await flowing.wait()  # for good: this connection is cut
                    tail = seen[-len(cut.marker) + 1:] if cut is not None else b""
                    dst.write(data)
                    await dst.drain()
                dst.close()  # a side that closes closes the other: a session ends as it would without the relay

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))

    async def close(self) -> None:
        """Stop relaying and close every relayed connection, frozen ones too: the ledger behind it then finds its
        sessions closed at once, rather than waiting on a relay whose event loop is gone (its shutdown took 10 s)."""
        if self.server is not None:
            self.server.close()
        for end in self.ends:
            end.close()

