"""`cadre-ledger run` against an external PostgreSQL (`CADRE_PG_DSN=... make run`, as the README shows): what it
prints. Every port is a free one (tests/test_run_and_readme.py runs the defaults)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.devstack import free_port
from shared.processes import SERVICES
from tests.support import System, scratch_database

PASSWORD = "s3cret-pw"


def _printed_until_running(env: dict[str, str], data_dir: Path) -> str:
    """What `cadre-ledger run` prints until it says how to stop it; then it is stopped as Ctrl-C stops it."""
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "run", "--data-dir", str(data_dir)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = []
    try:
        deadline = time.monotonic() + 180
        for line in proc.stdout:
            output.append(line)
            if "Ctrl-C" in line or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return "".join(output)


async def test_run_does_not_print_the_password_of_an_external_database(system: System, tmp_path: Path) -> None:
    """Found by review: the summary printed `CADRE_PG_DSN` whole, password and all, while it hid NATS's."""
    dsn = await scratch_database(system, "run_external")
    with_password = dsn.replace("://postgres@", f"://postgres:{PASSWORD}@")  # trust auth: the password is not asked
    assert with_password != dsn
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}, "CADRE_PG_DSN": with_password,
           "CADRE_ROTATION_SCAN_INTERVAL_S": "0", **{s.port_setting: str(free_port()) for s in SERVICES}}
    printed = await asyncio.to_thread(_printed_until_running, env, tmp_path / "var")
    assert "is running" in printed, printed
    assert PASSWORD not in printed, printed
    assert f"  PostgreSQL  {dsn.replace('://postgres@', '://postgres:***@')}\n" in printed, printed
