"""Errors that reach users, each with the RFC 9457 problem+json shape it maps to."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

_BY_STATUS = {
    400: ("bad-request", "Bad request (请求有误)"),
    403: ("forbidden", "Forbidden (无权访问)"),
    404: ("not-found", "Not found (未找到)"),
    405: ("method-not-allowed", "Method not allowed (方法不允许)"),
    413: ("too-large", "Request too large (请求过大)"),
    415: ("unsupported-media-type", "Unsupported media type (不支持的内容类型)"),
    500: ("internal", "Internal error (内部错误)"),
}
"""The type and title of each status a problem is made for by its number (`status_override`): a body not declared
JSON (415), what aiohttp refuses itself (a static file's 403, 404, 405, 413) and faults (500). Another status would
be told as `http-error`, which says nothing a client can act on."""
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


class Problem(Exception):
    """An error with an HTTP status and an RFC 9457 body; raise it from any handler."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request (请求有误)"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None,
                 status_override: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        if clash := _STANDARD_MEMBERS & extra.keys():  # `body` would put them over RFC 9457's, e.g. a text `status`
            raise TypeError(f"a problem's extension members cannot be named {sorted(clash)}")
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra
        if status_override is not None:
            self.status = status_override
            self.type_slug, self.title = _BY_STATUS.get(status_override, ("http-error", "HTTP error (请求错误)"))

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": f"https://cadre-ledger.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


class InvalidInput(Problem):
    """The request is malformed or fails validation; `errors` name each field."""

    status = 422
    type_slug = "invalid-input"
    title = "Invalid input (输入无效)"


class Unauthenticated(Problem):
    """No valid bearer token: answered with `WWW-Authenticate: Bearer ...` (RFC 6750), as every 401 must be."""

    status = 401
    type_slug = "unauthenticated"
    title = "Not authenticated (未认证)"

    def __init__(self, detail: str, *, challenge: str = 'Bearer realm="cadre-ledger"', **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **extra)


class Forbidden(Problem):
    """The token lacks the role or the county scope."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden (无权访问)"


class NotFound(Problem):
    status = 404
    type_slug = "not-found"
    title = "Not found (未找到)"


class Conflict(Problem):
    status = 409
    type_slug = "conflict"
    title = "Conflict (并发冲突)"


class NotWitnessed(Problem):
    """A witnessed answer was asked for, and no checkpoint it could lead to is cosigned by every witness yet."""

    status = 409
    type_slug = "not-witnessed"
    title = "Not yet witnessed (尚未见证)"


class Unavailable(Problem):
    """A dependency (NATS, PostgreSQL) is down; the client should retry later."""

    status = 503
    type_slug = "unavailable"
    title = "Service unavailable (服务暂不可用)"

    def __init__(self, detail: str, *, retry_after: int = 2, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extra)


_OUTAGE_LOG_EVERY_S = 10.0
_outage_logged_at = -_OUTAGE_LOG_EVERY_S


def database_unavailable(cause: Exception) -> Unavailable:
    """The 503 of PostgreSQL unreachable, silent, or without a pooled connection free in time (`DatabaseUnavailable`),
    whichever route met it: a read (`shared.http`) or a command (`shared.commands`).

    The cause names the database's address and the driver's words: it goes to the log, at most once every ten
    seconds (an outage fails every request), and never to the client, who can only retry."""
    global _outage_logged_at
    now = time.monotonic()
    if now - _outage_logged_at >= _OUTAGE_LOG_EVERY_S:
        _outage_logged_at = now
        log.warning("ledger database unavailable (数据库不可用): %s", cause)
    return Unavailable("ledger database unavailable, retry after Retry-After (数据库不可用，请稍后重试)")


def database_fault(cause: Exception, request_id: str) -> Problem:
    """The 500 of a statement PostgreSQL refused (a privilege revoked, a table or column a migration did not create, a
    syntax error): a deployment or programming fault, which a 503 and its Retry-After would hide behind clients'
    retries while nothing changes. Logged as an error on every request with the cause (its class and SQLSTATE, the
    server's words, the traceback), and told to the client as any internal error is: without the database's words,
    with the request id that finds the log line (docs/operating-guide.md, "Database errors"): the line carries it, as
    every line logged while serving a request does (`shared.logs.LogContext`)."""
    log.error("PostgreSQL refused a statement, a deployment or programming fault rather than an outage (数据库拒绝执行"
              "语句：部署或程序错误，非数据库不可用): %s (SQLSTATE %s): %s", type(cause).__name__,
              getattr(cause, "sqlstate", None), cause, exc_info=cause,
              extra={"sqlstate": getattr(cause, "sqlstate", None)})
    return Problem("internal error; it has been logged (内部错误)", status_override=500, request_id=request_id)


class Inconsistent(Problem):
    """Stored data contradicts itself (a damaged database): 500 naming what is missing, never a bare error."""

    status = 500
    type_slug = "inconsistent"
    title = "Stored data inconsistent (存储数据不一致)"


class Quarantined(Problem):
    """The ledger quarantined the event a command published (its own checks are stricter than the service's):
    nothing was recorded, and the message is kept with its reason (`GET /v1/quarantine`)."""

    status = 422
    type_slug = "quarantined"
    title = "Not recorded: quarantined by the ledger (账本已隔离该事件)"

    def __init__(self, stream_seq: int, why: str) -> None:
        super().__init__(f"the ledger quarantined the event (账本已隔离该事件，未记录) at stream sequence "
                         f"{stream_seq}: {why}", stream_seq=stream_seq)


RECORD_KEEPING = ("记录规则: 台账自身的一致性要求, 非法规条文 (record-keeping rule: the ledger's own consistency, "
                  "e.g. a fact recorded once and in order; no regulation is cited)")
"""The basis of a rule that keeps the record consistent rather than applying a regulation (依据: 记录规则)."""


class RuleViolation(Problem):
    """A command breaks a domain rule: 422 naming the rule, its basis, in Chinese and English.

    `basis` names the regulation or source document (S0..S4) the rule applies; a rule that only keeps the
    record consistent (an id recorded once, a step after the one it follows) has `RECORD_KEEPING`.
    """

    status = 422
    type_slug = "rule-violation"
    title = "Rule violated (违反规则)"

    def __init__(self, rule: str, message_en: str, message_zh: str, basis: str = RECORD_KEEPING,
                 **extra: Any) -> None:
        super().__init__(f"{message_zh} / {message_en}", rule=rule, basis=basis, message_en=message_en,
                         message_zh=message_zh, **extra)
        self.rule = rule
