"""What several CLI commands share when they talk to the ledger or write files: the exit codes the `--help` texts and
the auditor guide promise (1 checked and refused, 2 could not run) and messages in English with the Chinese term."""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click
import orjson

READ_TIMEOUT_S = 30.0
"""How long `history` and `state` wait for the ledger; a module constant so a test need not wait it out."""


class CannotRun(click.ClickException):
    """The command could not run at all (bad input, unreachable database or ledger, unwritable file): exit code 2."""

    exit_code = 2


class Failed(click.ClickException):
    """The command ran and the answer is no (tampering, fork, refusal): exit code 1."""

    exit_code = 1


def url_problem(value: str) -> str | None:
    """Why `value` cannot be a ledger's base URL, or None when it can.

    Checked before anything is sent: urllib would raise ValueError on a URL without a scheme, and a control character
    or a bad port would surface as a traceback from http.client.
    """
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "it contains a blank or a control character"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it needs http:// or https:// and a host, e.g. http://127.0.0.1:8100"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        # The commands append their paths to the base: after a query they would land in it, unsent.
        return "a base URL takes no query (?...) or fragment (#...)"
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        return str(exc)
    return None


def ledger_url_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A `--url` callback: refuse a URL that names no HTTP server as a usage error (exit 2)."""
    if value is not None and (problem := url_problem(value)):
        raise click.BadParameter(f"{value!r} is not a ledger URL (账本地址无效): {problem}")
    return value


def ledger_base(url: str | None) -> str:
    """The ledger's base URL: `--url`, else CADRE_LEDGER_URL, read only then: a command given --url needs no
    settings, so a CADRE_* variable it does not use cannot stop it (docs/configuration.md says so)."""
    if url is not None:
        return url.rstrip("/")
    from shared.settings import get_settings

    configured = get_settings().ledger_url
    if problem := url_problem(configured):
        raise CannotRun(f"CADRE_LEDGER_URL={configured!r} is not a ledger URL (账本地址无效): {problem}; pass --url")
    return configured.rstrip("/")


def get_json(url: str, token: str, timeout: float | None = None) -> Any:
    """GET `url` from the ledger with a bearer token and parse its JSON answer.

    A 4xx answer is the ledger saying no (exit 1); anything that keeps the question from being answered, a 5xx
    included, is could-not-run (exit 2).
    """
    wait = READ_TIMEOUT_S if timeout is None else timeout
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=wait) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:  # a proxy's or another server's error page: nothing the ledger said
            raise _not_json(url, exc.code, body) from exc
        error = Failed if 400 <= exc.code < 500 else CannotRun
        raise error(f"{exc.code} from {url}: {body.decode(errors='replace')}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _no_answer(url, wait) from exc
        raise CannotRun(f"cannot reach the ledger at {url} (无法连接账本): {exc.reason}") from exc
    except TimeoutError as exc:  # connected, then silence: urllib lets the socket's timeout through unwrapped
        raise _no_answer(url, wait) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise CannotRun(f"cannot reach the ledger at {url} (无法连接账本): {exc!r}") from exc
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _not_json(url, status, body) from exc


def _not_json(url: str, status: int, body: bytes) -> CannotRun:
    start = body[:80].decode(errors="replace")
    return CannotRun(f"the answer from {url} (HTTP {status}) is not the ledger's JSON (不是账本的应答): it starts "
                     f"{start!r}. Is --url the ledger's base URL?")


def ledger_answer(answer: Any, url: str, *members: str) -> dict[str, Any]:
    """`answer` when it is a JSON object with `members`: JSON of another server (a proxy's status page) is not the
    ledger's answer, and reading it as one would end in a KeyError."""
    if not isinstance(answer, dict) or any(member not in answer for member in members):
        raise CannotRun(f"the answer from {url} is JSON but not the ledger's (不是账本的应答): it lacks "
                        f"{', '.join(members)}. Is --url the ledger's base URL?")
    return answer


def _no_answer(url: str, wait: float) -> CannotRun:
    return CannotRun(f"no answer from {url} within {wait:g} s (账本无应答)")


def make_directory(path: Path) -> None:
    """Create `path` unless it is a directory already; its parent must exist.

    A typo in a parent (/secure/keys for /srv/secure/keys) would otherwise make a tree of its own and put secret
    keys where nobody looks for them; only the last part is created, as `--out deploy/secrets` in the docs needs.
    """
    try:
        path.mkdir(exist_ok=True)
    except FileNotFoundError as exc:
        raise CannotRun(f"cannot create directory {path}: its parent {path.parent} does not exist "
                        "(上级目录不存在)") from exc
    except FileExistsError as exc:  # exist_ok covers directories only
        raise CannotRun(f"{path} exists and is not a directory (不是目录)") from exc
    except OSError as exc:
        raise CannotRun(f"cannot create directory {path}: {exc.strerror} (无法创建目录)") from exc


def cannot_write(path: Path, exc: OSError) -> CannotRun:
    """The error for a file that could not be written, naming it and the system's reason."""
    return CannotRun(f"cannot write {path}: {exc.strerror or exc} (无法写入文件)")


def write_bytes(path: Path, data: bytes, mode: int = 0o666, exclusive: bool = False) -> None:
    """Write `data` to `path`, created with `mode` (before the umask); `exclusive`: never replace a file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise cannot_write(path, exc) from exc


def read_text(path: Path) -> str:
    """The text of `path`, or could-not-run naming the file and why."""
    try:
        return path.read_text()
    except FileNotFoundError as exc:
        raise CannotRun(f"{path} is missing (文件不存在)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise CannotRun(f"cannot read {path}: {reason} (无法读取文件)") from exc
