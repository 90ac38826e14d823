"""Structured JSON logs on stderr, one object per line, with contextual fields.

A line logged while a request is served carries the request's fields (`request_id`, `path`, a command's `trace_id`)
whichever code logs it: the HTTP middleware enters a `LogContext` of them for the request's task, which the tasks it
starts inherit, and the formatter adds them to every line. No call site has to pass them."""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_CONTEXT: ContextVar[dict[str, str] | None] = ContextVar("log_context", default=None)
"""The fields of the work in hand (a request, a scan), one dict per unit of work: `add_to_log_context` adds to it."""


class LogContext:
    """Every line logged within the block, by this task or a task it starts, carries `fields` (beside those of an
    enclosing block), unless the logging call's `extra=` names the field itself.

    A class rather than a generator under `contextlib.contextmanager`: it runs on every request, and costs a third."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: str) -> None:
        self._fields = fields

    def __enter__(self) -> None:
        outer = _CONTEXT.get()
        self._token = _CONTEXT.set({**outer, **self._fields} if outer else self._fields)

    def __exit__(self, *_: object) -> None:
        _CONTEXT.reset(self._token)


def add_to_log_context(**fields: str) -> None:
    """Adds `fields` to the enclosing `LogContext` for the rest of its block, where a nested block could not reach:
    what is learnt once the work has begun (a command's trace id, known once its route is) is then on the lines
    logged after the inner code returns too, as the middleware's own are (the block's exit restores what was before
    it). Outside any block, nothing: there is no work to describe. A new dict, never the one in use: tasks started
    earlier, and an enclosing block, keep the fields they had."""
    context = _CONTEXT.get()
    if context is not None:
        _CONTEXT.set({**context, **fields})


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The contextual fields of a line: its `LogContext`'s, then its `extra=` ones (which win)."""
    fields = dict(_CONTEXT.get() or {})
    for key, value in record.__dict__.items():
        if key not in _RESERVED and not key.startswith("_"):
            fields[key] = value
    return fields


class TextFormatter(logging.Formatter):
    """Plain text for a person at a terminal: time, level, logger and message, then the contextual fields as
    key=value, so that a line can be tied to its request (`request_id`) as the JSON lines can."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # the message's line, before any traceback
        line = super().formatMessage(record)
        if fields := fields_of(record):
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: the `LogContext` fields, then the `extra=` fields (which win), as
    top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(fields_of(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Route the root logger to stderr as JSON (or plain text for humans)."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
