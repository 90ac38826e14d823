"""Server addresses in configuration: read as NATS and asyncpg read them, and shown without their secrets."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

NATS_SCHEMES = ("nats", "tls", "ws", "wss")
POSTGRES_SCHEMES = ("postgresql", "postgres")
_HIDDEN = "***"
_NOT_A_NATS_URL = ("a NATS URL is nats://[user:password@]host[:port] (or tls://, ws://, wss://), "
                   "e.g. nats://127.0.0.1:4222 (NATS 地址格式无效)")


def nats_server(url: str) -> SplitResult:
    """`url` as nats-py reads one server's URL (no scheme: nats://; no port: 4222 but for websockets).

    ValueError, saying what a NATS URL looks like, when nats-py could not connect to it: a scheme it does not speak, a
    port that is not a number (or 0), no host or an unreadable one.
    """
    try:
        parts = urlsplit(url if "://" in url else f"nats://{url}")
        readable = parts.scheme in NATS_SCHEMES and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number (read by .port), an IPv6 host its ] does not close
        readable = False
    if not readable:
        raise ValueError(_NOT_A_NATS_URL)
    return parts


def postgres_dsn(dsn: str) -> str:
    """`dsn`, when asyncpg reads it as the DSN it means.

    ValueError, saying what a DSN looks like, when not: a scheme asyncpg does not take, or an @ after the host. A / ?
    or # in a password that is not percent-encoded ends the host there: asyncpg then read part of the password as the
    port or the database, and its error printed it (`invalid literal for int() with base 10: 's3cret'`)."""
    try:
        parts = urlsplit(dsn)
    except ValueError:  # an IPv6 host its ] does not close
        parts = urlsplit("")
    if parts.scheme not in POSTGRES_SCHEMES or "@" in f"{parts.path}{parts.query}{parts.fragment}":
        raise ValueError("a PostgreSQL DSN is postgresql://user:password@host[:port]/database, a / ? or # in the "
                         "password percent-encoded (%2F %3F %23), e.g. postgresql://cadre:secret@db:5432/cadre "
                         "(数据库连接串格式无效)")
    return dsn


_NEXT_URL = re.compile(r",(?=\s*[A-Za-z][A-Za-z0-9+.-]*://)")
"""Where a list of URLs (nats://a,nats://b, as other NATS clients take several servers) starts its next one."""


def redacted(text: str, *, nats: bool = False) -> str:
    """`text`, a URL (or a list of them, comma-separated), with each password replaced by ***, for messages and logs.

    The user part is everything up to the last @ after the scheme, not what `urlsplit` takes for it: the URL shown is
    often one refused as unreadable, because its password holds a / ? or # it would need percent-encoded, where
    `urlsplit` ends the host early and finds no password to hide. `nats`: a NATS URL, whose scheme nats-py lets be
    left out, and whose user part without a password is a token (hidden too)."""
    return ",".join(_without_secret(url, nats) for url in _NEXT_URL.split(text))


def _without_secret(url: str, nats: bool) -> str:
    scheme, separated, rest = url.partition("://")
    if not separated:
        if not nats:
            return url
        scheme, rest = "", url
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:{_HIDDEN}" if colon else _HIDDEN if nats else user
    return f"{scheme}{separated}{shown}@{host}"
