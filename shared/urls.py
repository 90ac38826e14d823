"""Server addresses in configuration: read as NATS reads them, and shown without their secrets."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

NATS_SCHEMES = ("nats", "tls", "ws", "wss")
_HIDDEN = "***"


def nats_server(url: str) -> SplitResult:
    """`url` as nats-py reads one server's URL (no scheme: nats://; no port: 4222 but for websockets).

    ValueError, saying what a NATS URL looks like, when nats-py could not connect to it: a scheme it does not speak, a
    port that is not a number, no host.
    """
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in NATS_SCHEMES or port == -1 or not parts.hostname:
        raise ValueError("a NATS URL is nats://[user:password@]host[:port] (or tls://, ws://, wss://), "
                         "e.g. nats://127.0.0.1:4222 (NATS 地址格式无效)")
    return parts


def redacted(text: str, *, user_alone_is_token: bool = False) -> str:
    """`text`, a URL, with its password replaced by ***, for messages and logs; its user part too when it comes alone
    and is a token (`user_alone_is_token`: NATS sends a user part without a password as a token)."""
    if "://" not in text or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:  # not a URL after all (an unclosed IPv6 bracket): hide everything before the host
        return f"{text.partition('://')[0]}://{_HIDDEN}@{text.rpartition('@')[2]}"
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return text
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:{_HIDDEN}" if colon else _HIDDEN if user_alone_is_token else user
    return parts._replace(netloc=f"{shown}@{host}").geturl()
