"""The ledger writer's PostgreSQL sessions, and how the writer finds one cut.

A session cut on the way (a failover, a network that drops packets without a word: no FIN, no RST) tells the client
nothing: a statement sent on it waits until TCP gives up, many minutes later. The writer takes PostgreSQL's silence
past its timeout (CADRE_WRITER_PG_TIMEOUT_S) for such a cut and stands down. Nothing of the batch it was appending
was acked, so JetStream delivers it again to the next writer, which the server lets take the writer lock once it has
ended the old session (`server_gives_up`): the batch then rolls back, or stays committed if only its COMMIT's answer
was lost, and the next writer resumes from the consumer checkpoint committed with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import asyncpg

from shared.db import named


class SessionCut(ConnectionError):
    """PostgreSQL did not answer the writer in time: its session is taken for cut, and the writer stands down."""


async def connect(dsn: str, application: str, timeout: float, **settings: str) -> asyncpg.Connection:
    """A session named `application` on which every statement waits for PostgreSQL at most `timeout` seconds, with
    these server `settings`."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=5, command_timeout=timeout,
                                                     server_settings=named(application) | settings)
    return conn


def server_gives_up(timeout: float) -> dict[str, str]:
    """Server settings of the session that appends and holds the writer lock, so that PostgreSQL, too, ends it once
    the writer is gone silent for about as long as the writer waits for PostgreSQL (`timeout` seconds).

    Until the server ends it, the session keeps the lock (and a batch's row locks), and no other writer can be
    elected. Left inside a transaction, it is ended after `timeout` (the writer never pauses there that long).
    Otherwise only the server's TCP notices that the client is gone: an idle session, or one in the middle of a COPY
    (the server waits for its rows with no timeout of its own), after the kernel's keepalive time, two hours by
    default on Linux; an answer the client never acknowledges, after some fifteen minutes of retransmissions. Here
    keepalives start after `timeout` of silence and three probes `timeout`/3 apart go unanswered, and unacknowledged
    data is given up after 2 × `timeout`: the server ends the session about 2 × `timeout` after the client fell
    silent. (Ignored on a Unix socket, where the client's end is known at once.)"""
    seconds = max(1, round(timeout))
    return {"idle_in_transaction_session_timeout": str(int(timeout * 1000)),
            "tcp_keepalives_idle": str(seconds), "tcp_keepalives_interval": str(max(1, round(timeout / 3))),
            "tcp_keepalives_count": "3", "tcp_user_timeout": str(int(2 * timeout * 1000))}


@contextlib.contextmanager
def answered(timeout: float) -> Iterator[None]:
    """PostgreSQL silent past `timeout` (asyncpg's TimeoutError, from the sessions' command timeout) raises
    SessionCut, naming the setting."""
    try:
        yield
    except TimeoutError as exc:
        raise SessionCut(f"PostgreSQL did not answer the writer within {timeout:g} s (CADRE_WRITER_PG_TIMEOUT_S): its "
                         "session is taken for cut (会话视为已断开), and the writer stands down") from exc


def end(sessions: Sequence[asyncpg.Connection | None]) -> None:
    """End sessions after a failure without asking them to close: one cut on the way would not answer that either,
    and the goodbye would wait as long again. PostgreSQL rolls back a batch left open when its session ends."""
    for session in sessions:
        if session is not None:
            session.terminate()


async def check(conn: asyncpg.Connection) -> None:
    """While idle: the session that holds the advisory lock must still answer. Closed by the server, or cut on the
    way, it holds no lock any more, and another writer may lead already while this one, idle, would go on calling
    itself the writer (`ledger_is_writer`) until a batch failed. Raising ends this leadership; the next election
    takes the lock again or waits behind the writer that has it."""
    if conn.is_closed():
        raise ConnectionError("the writer's PostgreSQL connection, and its lock, are gone")
    try:
        await conn.fetchval("SELECT 1", timeout=5)
    except TimeoutError as exc:
        raise ConnectionError("the writer's PostgreSQL session no longer answers: its lock may be gone") from exc
