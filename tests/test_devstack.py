"""The embedded dev stack starts wherever its data directory is (`cadre-ledger run --data-dir`, test tmp dirs)."""

from __future__ import annotations

from pathlib import Path

from shared.devstack import start_postgres
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
