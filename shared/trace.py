"""W3C trace context (https://www.w3.org/TR/trace-context/) of a command request: the client's, or one started here.

A command's event carries its request's `traceparent` (hashed in the ledger row, copied into the NATS header), and
the answer returns it, so the client's request, its log lines, the message and the ledger row share one trace id.
A request without a valid one gets a new root: no command's event is left without a trace.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from shared.envelope import TRACEPARENT_PATTERN

TRACEPARENT = web.RequestKey("traceparent", str)
"""The traceparent of a command request (a route answering 202), set before its token or input is checked."""

SAMPLED = "01"
"""The trace-flags of a trace started here: sampled, since every command's trace is recorded (in its event, the
ledger row and the request's log lines); a tracing backend that follows its parent then keeps the downstream
spans too. (W3C: "the caller may have recorded trace data".)"""

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)
_ZERO_TRACE_ID, _ZERO_PARENT_ID = "0" * 32, "0" * 16


def valid_traceparent(header: str | None) -> str | None:
    """The header as a W3C traceparent, or None when absent or invalid: not four dash-separated lowercase hex fields
    of 2, 32, 16 and 2 digits (W3C's HEXDIGLC: an uppercase digit is a character the field does not allow, and the
    vendor MUST ignore the header), version ff, or an all-zero trace or parent id."""
    value = (header or "").strip()
    if not _TRACEPARENT.match(value):
        return None
    version, trace_id, parent_id, _ = value.split("-")
    if version == "ff" or trace_id == _ZERO_TRACE_ID or parent_id == _ZERO_PARENT_ID:
        return None
    return value


def new_traceparent() -> str:
    """A new root: version 00, a random 16-byte trace id and 8-byte parent id, sampled (`SAMPLED`)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-{SAMPLED}"


def continue_or_start(header: str | None) -> str:
    """The client's traceparent, unchanged, when valid; else a new root (W3C: an invalid one is ignored)."""
    return valid_traceparent(header) or new_traceparent()


def trace_id(traceparent: str) -> str:
    """The trace id of a traceparent (its second field), which log lines carry as `trace_id`."""
    return traceparent.split("-")[1]


def traceparent_of(request: web.Request) -> str:
    """The command request's traceparent, for its events. Only a command route (declared answering 202, or
    `records`) has one: a handler of another route that records an event fails here, in its tests, rather than
    record it untraced."""
    return request[TRACEPARENT]
