"""A service whose NATS login the server refuses, through a real nats-server that requires a user and password.

Found by reading `shared.bus.connect`, then reproduced: with a wrong password in CADRE_NATS_URL (or a user the server
does not know, or a wrong token) a service never started and never ended; nats-py's first connect retried the
`Authorization Violation` every 0.5 s for good, logged only as a warning. Now the start ends at once with one line
naming the server, the user and the cause (NATS 拒绝登录), status 1, as for a DSN PostgreSQL refuses
(`tests/test_database_startup.py`). A login refused once the service runs is logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.bus import close, connect
from shared.devstack import free_port, nats_server_binary
from shared.processes import SERVICES, ServiceProcess
from tests.support import System, call, log_records, wait_until

PASSWORD = "right-secret"


def _configure(config: Path, port: int, password: str) -> Path:
    """A nats-server configuration with one user, audit, and its password; JetStream beside it, for a service."""
    config.write_text(f'listen: "127.0.0.1:{port}"\n'
                      f'jetstream {{ store_dir: "{config.parent / "jetstream"}" }}\n'
                      f'authorization {{ users: [ {{ user: audit, password: "{password}" }} ] }}\n')
    return config


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([nats_server_binary(), "-c", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[bytes]]]:
    """A nats-server whose one user, audit, has the password PASSWORD: its port, configuration and process."""
    port = free_port()
    config = _configure(tmp_path / "nats.conf", port, PASSWORD)
    server = _start(config)
    try:
        yield port, config, server
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(("credentials", "who"), [
    ("audit:wrong-secret", "the login of user audit"),
    ("nobody:wrong-secret", "the login of user nobody"),
    ("wrong-secret", "the login with the token in CADRE_NATS_URL"),
])
def test_a_refused_login_ends_the_start_naming_server_and_user(
        nats_server: tuple[int, Path, subprocess.Popen[bytes]], credentials: str, who: str) -> None:
    port = nats_server[0]
    spec = next(s for s in SERVICES if s.name == "audit")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CADRE_")},
           "CADRE_NATS_URL": f"nats://{credentials}@127.0.0.1:{port}", spec.port_setting: str(free_port())}
    started = subprocess.run([sys.executable, "-m", spec.module], env=env, capture_output=True, text=True,
                             timeout=20, check=False)  # before the fix: no end, retried for good
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    last = started.stderr.strip().splitlines()[-1]
    assert last.startswith(f"NATS at 127.0.0.1:{port} refused {who}: Authorization Violation (NATS 拒绝登录); "
                           "correct the user and password (or token) in CADRE_NATS_URL"), last
    assert "wrong-secret" not in started.stderr, "neither a password nor a token is printed"


async def test_a_login_refused_by_a_reloaded_configuration_is_logged_as_an_error(
        nats_server: tuple[int, Path, subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    """The server, its configuration reloaded without the user's password, ends the connection; nats-py then closes
    it for good (it does not reconnect after an `Authorization Violation`), which is said as an error."""
    port, config, server = nats_server
    nc = await connect(f"nats://audit:{PASSWORD}@127.0.0.1:{port}", "cadre-test", 5)
    try:
        _configure(config, port, "another")
        server.send_signal(signal.SIGHUP)
        caplog.set_level(logging.ERROR, "shared.bus")
        await wait_until(lambda: asyncio.sleep(0, nc.is_closed), timeout=10)
        refused = [r.getMessage() for r in caplog.records if "NATS 拒绝登录" in r.getMessage()]
        assert refused and refused[0].startswith(
            f"NATS at 127.0.0.1:{port} refused the login of user audit: authorization failed (NATS 拒绝登录), and the "
            "connection is closed for good (连接已关闭): its /livez fails, so that it is restarted"), refused
        assert PASSWORD not in caplog.text
    finally:
        await close(nc, 1)


async def test_a_login_refused_on_reconnecting_is_logged_as_an_error_and_tried_again(
        nats_server: tuple[int, Path, subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    """The server restarted with other users: the connection, lost, is refused on each attempt to reconnect, said as
    an error each time, and is made again once the server accepts the login."""
    port, config, server = nats_server
    nc = await connect(f"nats://audit:{PASSWORD}@127.0.0.1:{port}", "cadre-test", 5)
    caplog.set_level(logging.ERROR, "shared.bus")
    restarted = [server]

    def restart(password: str) -> None:
        restarted[-1].terminate()
        restarted[-1].wait(10)
        restarted.append(_start(_configure(config, port, password)))

    try:
        restart("another")
        await wait_until(lambda: asyncio.sleep(0, "NATS 拒绝登录" in caplog.text), timeout=10)
        refused = next(r.getMessage() for r in caplog.records if "NATS 拒绝登录" in r.getMessage())
        assert refused.startswith(f"NATS at 127.0.0.1:{port} refused the login of user audit: Authorization Violation "
                                  "(NATS 拒绝登录); trying again every 0.5 s; correct the user"), refused
        assert PASSWORD not in caplog.text and not nc.is_closed
        restart(PASSWORD)
        await wait_until(lambda: asyncio.sleep(0, nc.is_connected), timeout=10)
    finally:
        await close(nc, 1)
        for proc in restarted[1:]:
            proc.terminate()
            proc.wait(10)


async def test_a_service_whose_connection_is_closed_for_good_fails_liveness(
        system: System, nats_server: tuple[int, Path, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """Found by the reload test above: the service then stayed alive (its /livez 200) and never ready, so no
    orchestrator restarted it. Its /livez now fails, saying why, and so does /readyz."""
    port, config, server = nats_server
    spec = next(s for s in SERVICES if s.name == "audit")
    proc = ServiceProcess(spec, free_port(), {**system.env_for("audit"),
                                              "CADRE_NATS_URL": f"nats://audit:{PASSWORD}@127.0.0.1:{port}"},
                          tmp_path / "logs")
    try:
        proc.wait_ready()
        assert (await call("GET", f"{proc.url}/livez"))[0] == 200
        _configure(config, port, "another")
        server.send_signal(signal.SIGHUP)

        async def failing() -> dict[str, list[str]] | None:
            status, body, headers = await call("GET", f"{proc.url}/livez")
            return body if status == 503 and headers.get("Retry-After") else None

        said = "NATS connection closed for good: restart the service (NATS 连接已永久关闭，须重启服务)"
        assert (await wait_until(failing, timeout=10))["reasons"] == [said]
        status, ready, _ = await call("GET", f"{proc.url}/readyz")
        assert status == 503 and ready["reasons"] == [said], ready
    finally:
        proc.stop()


async def test_a_service_stopped_after_its_login_is_accepted_again_logs_no_closed_for_good_error(
        system: System, nats_server: tuple[int, Path, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """Found by review: nats-py keeps the last reconnect's `Authorization Violation` as its last error once the login
    is accepted again, so a service stopped normally afterwards logged, as it stopped, that NATS had refused its login
    and closed the connection for good, that its /livez failed and it must be restarted: none of which was so."""
    port, config, server = nats_server
    spec = next(s for s in SERVICES if s.name == "audit")
    proc = ServiceProcess(spec, free_port(), {**system.env_for("audit"),
                                              "CADRE_NATS_URL": f"nats://audit:{PASSWORD}@127.0.0.1:{port}"},
                          tmp_path / "logs")
    restarted = [server]

    def restart(password: str) -> None:
        restarted[-1].terminate()
        restarted[-1].wait(10)
        restarted.append(_start(_configure(config, port, password)))

    async def ready() -> bool:
        return (await call("GET", f"{proc.url}/readyz"))[0] == 200

    try:
        proc.wait_ready()
        restart("another")
        await wait_until(lambda: log_records(proc.log_path, "NATS 拒绝登录"), timeout=10)
        restart(PASSWORD)
        await wait_until(ready, timeout=10)
        assert (await call("GET", f"{proc.url}/livez"))[0] == 200
    finally:
        proc.stop()
        for started in restarted[1:]:
            started.terminate()
            started.wait(10)
    said = [line["msg"] for line in await log_records(proc.log_path, "closed for good")]
    assert not said, said


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """Two nats-servers routed into one cluster, each with the user audit and its password PASSWORD, as a cluster's
    servers share their users (deploy/k8s/nats-values.yaml): each one's client port and process."""
    ports, routes = [free_port(), free_port()], [free_port(), free_port()]
    servers = []
    for i, (port, route) in enumerate(zip(ports, routes, strict=True)):
        config = tmp_path / f"nats-{i}.conf"
        config.write_text(f'server_name: n{i}\nlisten: "127.0.0.1:{port}"\n'
                          f'cluster {{ name: cadre, listen: "127.0.0.1:{route}", '
                          f'routes: ["nats-route://127.0.0.1:{routes[1 - i]}"] }}\n'
                          f'authorization {{ users: [ {{ user: audit, password: "{PASSWORD}" }} ] }}\n')
        servers.append((port, _start(config)))
    try:
        yield servers
    finally:
        for _, server in servers:
            server.terminate()
            server.wait(10)


async def test_a_connection_moves_to_another_server_of_the_cluster_with_its_login(
        nats_cluster: list[tuple[int, subprocess.Popen[bytes]]], caplog: pytest.LogCaptureFixture) -> None:
    """Found by review: nats-py sends the URL's user and password only to the URL's server, none to the servers of
    its cluster that it learns of (INFO connect_urls). When the server it was connected to stopped (a rolling
    restart), each other server refused the login without credentials: the service stayed disconnected while they
    ran, and logged that NATS at the stopped server refused the login of user audit, to correct the password."""
    (first, first_server), (second, _) = nats_cluster
    caplog.set_level(logging.WARNING, "shared.bus")
    nc = await connect(f"nats://audit:{PASSWORD}@127.0.0.1:{first}", "cadre-test", 5)
    try:
        await wait_until(lambda: asyncio.sleep(0, any(u.port == second for u in nc.discovered_servers)), timeout=10)
        first_server.terminate()
        first_server.wait(10)

        async def moved() -> bool:
            return nc.is_connected and nc.connected_url is not None and nc.connected_url.port == second

        await wait_until(moved, timeout=10)
        assert "NATS 拒绝登录" not in caplog.text, caplog.text
    finally:
        await close(nc, 1)
