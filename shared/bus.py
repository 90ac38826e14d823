"""NATS JetStream adapter: connection, the CADRE stream, publishing with optimistic concurrency.

Every await carries a timeout: nats-py can leave a publish future unresolved when the server
errors, and a command must answer 503 rather than hang.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from shared.envelope import CONTENT_TYPE, SUBJECT_PREFIX, CloudEvent, cadre_subject, cadre_wildcard
from shared.urls import nats_server, redacted

log = logging.getLogger(__name__)

ERR_WRONG_LAST_SEQUENCE = 10071
_REFUSED = re.compile(r'permissions violation for publish to "([^"]+)"')
"""How nats-py reports a publication the server refused (lowercased)."""
CHECKPOINT_SUBJECT = "ledger.checkpoints"
CHECKPOINT_STREAM = "LEDGER_CHECKPOINTS"
RECONNECT_WAIT_S = 0.5
"""How long a connection waits between attempts to reach NATS, at start-up and after losing it."""


class BusUnavailable(RuntimeError):
    """NATS did not answer in time or is disconnected."""


class WrongLastSequence(RuntimeError):
    """Another event reached the cadre's subjects first (optimistic concurrency conflict)."""


class PublishRejected(RuntimeError):
    """JetStream refused the message for another reason."""


class NatsRefused(SystemExit):
    """NATS answered and refused the login itself: a wrong user, password or token in CADRE_NATS_URL, a user the server
    does not know. A configuration fault that no retry mends, so a service met with it at start-up ends (status 1) with
    this one line, as when PostgreSQL refuses its DSN (`shared.db.DatabaseRefused`), rather than retry for good."""


def _login_refused(exc: BaseException | None) -> bool:
    """Whether nats-py's `exc` is the server refusing the credentials: `nats: 'Authorization Violation'` when it answers
    a CONNECT, AuthorizationError when it ends a connection it had accepted (its configuration reloaded)."""
    return isinstance(exc, nats.errors.AuthorizationError) or "authorization violation" in str(exc).lower()


def _credentials(url: str) -> dict[str, Any]:
    """The login `url` holds, as nats-py's connect options, which it sends to every server it connects to. Left in the
    URL alone, it went only to the URL's server: the other servers of its cluster, which nats-py learns of from it
    (INFO connect_urls) and moves to when it goes down, were sent none and refused the connection."""
    parts = nats_server(url)
    if parts.password is not None:
        return {"user": parts.username or "", "password": parts.password}
    return {"token": parts.username} if parts.username else {}  # nats-py's reading of a user part alone


def _login(url: str, exc: BaseException | None) -> str:
    """Which server refused whose login, and why, for messages: never a password or a token."""
    parts, login = nats_server(url), _credentials(url)
    if "user" in login:
        who = f"the login of user {login['user']}"
    elif login:
        who = "the login with the token in CADRE_NATS_URL"
    else:
        who = "a login without credentials (CADRE_NATS_URL names no user)"
    cause = str(exc).removeprefix("nats: ").strip("'")
    return f"NATS at {parts.hostname or 'localhost'}:{parts.port or 4222} refused {who}: {cause} (NATS 拒绝登录)"


_CORRECT = ("correct the user and password (or token) in CADRE_NATS_URL, or the server's users "
            "(cadre-ledger nats-config)")


class _Client(NATS):
    """nats-py's client, taking delivered subjects that are not UTF-8.

    NATS carries a subject's bytes as published, and nats-py decodes a delivered subject strictly, inside its
    connection's read loop. A publisher that wrote other bytes into a subject (`cadre.431021.A\\xc3(`) made
    that decode raise on every delivery of the message: JetStream redelivered it for good, and the ledger's
    writer received nothing after it. Decoded with `surrogateescape` the subject keeps its bytes: no cadre's
    subject matches it, so the writer quarantines the message and reads on.

    `asking`: the subjects (lowercased) `may_publish` is asking about, with how many calls ask; `refused`: those of
    them the server refused a publication to. Only those: a refusal of any other publication kept here would stay for
    good, one subject each (and without `$JS.FC.>`, one per flow control request, each of its own subject).
    `flow_control_refused`: the server refused an answer to JetStream's flow control, and no probe has passed since
    (`refusing_flow_control`): the permission was withdrawn while the connection was up (a configuration reloaded).
    """

    def __init__(self) -> None:
        super().__init__()
        self.asking: dict[str, int] = {}
        self.refused: set[str] = set()
        self.flow_control_refused = False

    def _build_message(self, sid: int, subject: bytes, reply: bytes, data: bytes,
                       headers: dict[str, str] | None) -> Msg:
        return self.msg_class(subject=subject.decode("utf-8", "surrogateescape"),
                              reply=reply.decode("utf-8", "surrogateescape"), data=data, headers=headers,
                              _client=self, _sid=sid)


async def connect(url: str, name: str, timeout: float = 5.0) -> NATS:
    """Connect with unbounded reconnects, waiting while NATS is unreachable; NatsRefused when it refuses the login.

    A login refused later is logged as an error: while reconnecting, nats-py keeps trying (a server restarted with
    other users); when the server ends the connection for it (its configuration reloaded), nats-py closes it for good.
    BusUnavailable when the first connect fails otherwise (nats-py raises no such error while it may reconnect)."""

    async def on_disconnect() -> None:
        if connected:  # not the close of a connection whose login was refused at start-up
            log.warning("nats disconnected", extra={"service": name})

    async def on_reconnect() -> None:
        log.info("nats reconnected", extra={"service": name})

    async def on_error(exc: Exception) -> None:
        if _login_refused(exc):
            if not connected:
                # nats-py's first connect retries every error, a refused login too, for as long as reconnects are
                # unbounded, and awaits this callback after each: raised here, the refusal ends it.
                raise NatsRefused(f"{_login(url, exc)}; {_CORRECT}")
            log.error("%s; trying again every %g s; %s", _login(url, exc), RECONNECT_WAIT_S, _CORRECT,
                      extra={"service": name})
            return
        if (refused := _REFUSED.search(str(exc).lower())) and refused[1] in nc.asking:
            nc.refused.add(refused[1])
            return  # `may_publish` answers it to its caller, which says what it means
        if "$js.fc." in str(exc).lower():  # NATS reports the subject lowercased
            nc.flow_control_refused = True
            log.error("nats error: %s: the ledger's NATS user may not answer JetStream flow control ($JS.FC.>), so "
                      "its consumer stalls, and the ledger is not ready until it may; update the NATS permissions "
                      "(cadre-ledger nats-config) (NATS 权限缺少 $JS.FC.>，写入者停滞)", exc, extra={"service": name})
            return
        log.warning("nats error: %s", exc, extra={"service": name})

    async def on_closed() -> None:
        # AuthorizationError alone: nats-py's error when the server ends a connection it had accepted (a configuration
        # reloaded), after which it does not reconnect. A refused reconnect is another error, which stays its last one
        # once the login is accepted again: taken for this, a close on shutdown after it said the connection was lost.
        if connected and isinstance(nc.last_error, nats.errors.AuthorizationError):
            log.error("%s, and the connection is closed for good (连接已关闭): its /livez fails, so that it is "
                      "restarted; %s", _login(url, nc.last_error), _CORRECT, extra={"service": name})

    # nats-py annotates both timeouts as int, but takes (and documents) seconds as a float.
    seconds: dict[str, Any] = {"connect_timeout": timeout, "reconnect_time_wait": RECONNECT_WAIT_S}
    nc, connected = _Client(), False
    try:
        await nc.connect(url, name=name, max_reconnect_attempts=-1, allow_reconnect=True, disconnected_cb=on_disconnect,
                         reconnected_cb=on_reconnect, error_cb=on_error, closed_cb=on_closed, **seconds,
                         **_credentials(url))
    except NatsRefused:
        await nc.close()
        raise
    except (OSError, nats.errors.Error, TimeoutError) as exc:
        raise BusUnavailable(f"cannot connect to NATS at {redacted(url, nats=True)}: {exc}") from exc
    connected = True
    return nc


async def may_publish(nc: NATS, subject: str, timeout: float) -> bool:
    """Whether the server lets this connection (made by `connect`) publish to `subject`: it is sent an empty message,
    then a PING, and the server refuses a publication before it answers what came after it. BusUnavailable when it
    does not answer within `timeout`."""
    assert isinstance(nc, _Client), "a connection made by shared.bus.connect"
    asked = subject.lower()
    nc.asking[asked] = nc.asking.get(asked, 0) + 1
    try:
        await nc.publish(subject, b"")
        await asyncio.wait_for(nc.flush(), timeout)
        return asked not in nc.refused
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"NATS did not answer whether {subject} may be published to: {exc}") from exc
    finally:
        nc.asking[asked] -= 1
        if not nc.asking[asked]:
            del nc.asking[asked]
            nc.refused.discard(asked)


async def refusing_flow_control(nc: NATS, probe: str, timeout: float) -> bool:
    """Whether the server refuses this connection's answers to JetStream's flow control: it refused one (`on_error`)
    and still refuses a publication to `probe`, a subject under `$JS.FC.>` that answers nothing. Asks the server only
    after a refusal; once `probe` passes, the refusal is forgotten. BusUnavailable when it does not answer."""
    assert isinstance(nc, _Client), "a connection made by shared.bus.connect"
    if nc.flow_control_refused and await may_publish(nc, probe, timeout):
        nc.flow_control_refused = False
        log.info("the ledger's NATS user may answer JetStream flow control ($JS.FC.>) again (流控权限已恢复)")
    return nc.flow_control_refused


def stream_subjects(counties: Sequence[str] = ()) -> list[str]:
    """The CADRE stream's subjects: every cadre's (`cadre.>`), or only those of `counties` (a partition, 分区)."""
    return [cadre_subject(county, ">") for county in counties] or [f"{SUBJECT_PREFIX}.>"]


def stream_config(name: str, duplicate_window_s: float, replicas: int = 1,
                  counties: Sequence[str] = ()) -> StreamConfig:
    """The CADRE stream: file storage, de-duplication window, no deletes or purges, kept forever.

    `replicas` > 1 needs a JetStream cluster (3 for R3: survives the loss of one server). `counties`: a
    partition's counties (`Settings.counties`), whose subjects alone the stream takes; empty: every county.
    """
    return StreamConfig(
        name=name,
        num_replicas=replicas,
        subjects=stream_subjects(counties),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        duplicate_window=duplicate_window_s,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
        description="Every cadre event (CloudEvents 1.0, one subject per cadre).",
    )


async def ensure_stream(js: JetStreamContext, name: str, duplicate_window_s: float, timeout: float = 5.0,
                        config: StreamConfig | None = None, replicas: int = 1, counties: Sequence[str] = ()) -> None:
    """Create the stream if missing (default: the CADRE stream, of `counties`); leave an existing one as it is.

    An existing CADRE stream whose subjects are not those `counties` give is logged as a warning: its subjects
    were set when it was created, and a county it lacks cannot be published to (`nats stream edit` adds it).
    """
    try:
        info = await asyncio.wait_for(js.stream_info(name), timeout)
        wanted = stream_subjects(counties)
        if config is None and sorted(info.config.subjects or []) != sorted(wanted):
            log.warning("stream %s takes subjects %s, not the %s that CADRE_COUNTIES gives (流主题与 CADRE_COUNTIES "
                        "不符): commands for a county it lacks cannot be published; edit the stream's subjects",
                        name, info.config.subjects, wanted,
                        extra={"stream": name, "subjects": info.config.subjects, "configured": wanted})
        return
    except nats.js.errors.NotFoundError:
        pass
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"stream_info({name}) failed: {exc}") from exc
    try:
        await asyncio.wait_for(js.add_stream(config or stream_config(name, duplicate_window_s, replicas, counties)),
                               timeout)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != 10058:  # stream name already in use: created concurrently, fine
            raise
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"add_stream({name}) failed: {exc}") from exc


def checkpoint_stream_config(replicas: int = 1) -> StreamConfig:
    """Where the ledger publishes its signed checkpoints, kept for witnesses and monitors."""
    return StreamConfig(name=CHECKPOINT_STREAM, subjects=[CHECKPOINT_SUBJECT], storage=StorageType.FILE,
                        num_replicas=replicas,
                        retention=RetentionPolicy.LIMITS, deny_delete=True, deny_purge=True,
                        description="Signed checkpoints (C2SP signed notes) of the cadre ledger's Merkle log.")


def event_headers(event: CloudEvent, expected_last_subject_seq: int | None) -> dict[str, str]:
    """Structured-mode CloudEvents headers plus de-duplication and concurrency headers."""
    headers = {"Content-Type": CONTENT_TYPE, "Nats-Msg-Id": str(event.id)}
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    if expected_last_subject_seq is not None:
        headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_last_subject_seq)
        headers["Nats-Expected-Last-Subject-Sequence-Subject"] = cadre_wildcard(event.subject)
    return headers


@dataclass(frozen=True)
class Published:
    """Where JetStream stored a published event."""

    stream_seq: int
    duplicate: bool


async def publish_event(js: JetStreamContext, stream: str, event: CloudEvent,
                        expected_last_subject_seq: int | None, timeout: float) -> Published:
    """Publish one event; `expected_last_subject_seq` is the cadre's last stream sequence (0: none)."""
    return await publish_raw(js, stream, event.nats_subject, event.canonical(),
                             event_headers(event, expected_last_subject_seq), timeout)


async def publish_raw(js: JetStreamContext, stream: str, subject: str, payload: bytes,
                      headers: dict[str, Any], timeout: float) -> Published:
    """Publish bytes with a hard timeout, mapping nats-py errors to ours."""
    try:
        ack = await asyncio.wait_for(
            js.publish(subject, payload, timeout=timeout, stream=stream, headers=headers), timeout + 0.5)
    except nats.js.errors.APIError as exc:
        if exc.err_code == ERR_WRONG_LAST_SEQUENCE:
            raise WrongLastSequence(exc.description or "wrong last sequence") from exc
        if exc.code is not None and exc.code >= 500:
            raise BusUnavailable(f"JetStream error: {exc}") from exc
        raise PublishRejected(f"JetStream rejected the message: {exc}") from exc
    except (TimeoutError, nats.errors.Error, OSError) as exc:
        raise BusUnavailable(f"publish to {subject} failed: {type(exc).__name__} {exc}") from exc
    return Published(stream_seq=ack.seq, duplicate=bool(ack.duplicate))


async def cadre_last_seq(js: JetStreamContext, stream: str, cadre_id: str, timeout: float) -> int:
    """The stream's last sequence on the cadre's subjects, in every county (0 when it holds none of them)."""
    try:
        message = await asyncio.wait_for(js.get_last_msg(stream, cadre_wildcard(cadre_id)), timeout)
    except nats.js.errors.NotFoundError:
        return 0
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"reading the last message of cadre {cadre_id} from {stream} failed: "
                             f"{type(exc).__name__} {exc}") from exc
    return int(message.seq or 0)


async def stream_last_seq(js: JetStreamContext, stream: str, timeout: float) -> int:
    """The stream's last sequence number (0 when empty)."""
    try:
        info = await asyncio.wait_for(js.stream_info(stream), timeout)
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"stream_info({stream}) failed: {exc}") from exc
    return int(info.state.last_seq)


async def close(nc: NATS, timeout: float = 5.0) -> None:
    """Flush what is pending and close; never hang (nats-py's drain can wait forever on a pull subscription)."""
    try:
        await asyncio.wait_for(nc.flush(), timeout)
    except (TimeoutError, nats.errors.Error):
        log.warning("nats flush on close failed; closing anyway")
    await nc.close()
