"""The harness's HTTP client for timed reads: one kept-alive HTTP/1.1 connection, nothing else.

Reads are timed from sending a request to the last byte of its answer, on the same two cores as the
ledger. With aiohttp's client the harness used about a millisecond of CPU per 96 KB history answer (0.34
cores at 319 answers/s, its own parsing of the answer included), and the part spent in aiohttp's parser
and response objects counted as the ledger's latency: in ten interleaved passes over a 1,000,000-event
ledger, the p50 it measured was a median 0.37 ms and the p99 0.84 ms above this client's. Like wrk or
hey, this client only writes the request and reads the answer's bytes; the caller checks the answer
outside the timing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import orjson


class HttpError(Exception):
    """The server's answer is not one this client reads (or the connection ended mid-answer)."""


@dataclass(frozen=True)
class Answer:
    """A whole answer: status, headers (names in lower case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


class HttpConnection:
    """Requests in sequence over one connection; every answer must carry a Content-Length, as aiohttp's
    `web.Response` answers do (a chunked answer is refused with HttpError rather than misread)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                 headers: dict[str, str]) -> None:
        self.reader = reader
        self.writer = writer
        self.preamble = f"Host: {host}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    @classmethod
    async def open(cls, base: str, headers: dict[str, str] | None = None) -> HttpConnection:
        """Connect to `base` (http://host:port); `headers` go with every request."""
        url = urlsplit(base)
        if url.scheme != "http" or url.hostname is None or url.port is None:
            raise ValueError(f"expected http://host:port, got {base!r}")
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(reader, writer, url.netloc, headers or {})

    async def request(self, method: str, path: str) -> Answer:
        """Send `method path` without a body and read the whole answer."""
        length = "" if method == "GET" else "Content-Length: 0\r\n"
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.preamble}{length}\r\n".encode())
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "content-length" not in headers:
                raise HttpError(f"{method} {path}: the answer has no Content-Length ({status_line})")
            body = await self.reader.readexactly(int(headers["content-length"]))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            raise HttpError(f"{method} {path}: the connection ended mid-answer ({exc!r})") from exc
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"{method} {path}: not an HTTP/1.1 status line: {status_line!r}")
        return Answer(int(parts[1]), headers, body)

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        await self.writer.wait_closed()

    async def __aenter__(self) -> HttpConnection:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
