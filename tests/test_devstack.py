"""The embedded dev stack starts wherever its data directory is (`cadre-ledger run --data-dir`, test tmp dirs)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from shared import devstack
from shared.devstack import PORTS_BELOW, _ephemeral_range, free_port, start_postgres
from tests.support import fetch


async def test_postgresql_starts_in_a_data_directory_too_deep_for_a_unix_socket(tmp_path: Path) -> None:
    # a unix socket path may be at most 107 bytes; PostgreSQL refused to start when it put its socket here
    deep = tmp_path.joinpath(*["a-data-directory-nested-deeply"] * 4)
    assert len(str(deep / "postgres" / ".s.PGSQL.65535")) > 107
    server = start_postgres(deep / "postgres", fast=True)
    try:
        [row] = await fetch(server.url, "SELECT current_setting('unix_socket_directories') AS dirs, 1 AS one")
        assert row["one"] == 1
        assert row["dirs"] == "", "every client connects over TCP to 127.0.0.1"
    finally:
        server.stop()


def test_free_ports_are_offered_outside_the_range_outgoing_connections_take(monkeypatch: pytest.MonkeyPatch) -> None:
    low, high = _ephemeral_range()
    ports = {free_port() for _ in range(200)}
    assert all(PORTS_BELOW <= p < low for p in ports), "never a port an outgoing connection could take meanwhile"
    assert len(ports) > 150, "taken at random, so two workers asking at once do not get the same one"
    with socket.socket() as taken:  # one that something listens on is never offered
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setattr(devstack, "_ephemeral_range", lambda: (busy + 1, high))
        # free_port draws its candidates with random.sample: the busy port comes first
        monkeypatch.setattr(random, "sample", lambda population, k: [busy, *population[:k - 1]])
        assert free_port() != busy


def test_a_port_offered_once_is_not_offered_again_before_its_server_binds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Servers bind their ports a moment after asking; a stack asks for several at once (NATS, its monitor, each
    # service). The same order of candidates every time: a port offered and not yet bound must be passed over.
    monkeypatch.setattr(random, "sample", lambda population, k: list(population[:k]))
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == len(ports), f"offered twice: {sorted(p for p in ports if ports.count(p) > 1)}"
