"""A ledger whose NATS user may not answer JetStream's flow control refuses to start, naming the permission.

Found by the last session: the writer's push consumer uses flow control, and with a NATS user lacking publish
permission on `$JS.FC.>` the ledger started, reported itself ready, appended the first window (about 2 MB) and then
stalled for good, the server's refusal only logged. Here a real nats-server gives the ledger user every permission
of `shared.nats_config` but that one.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.bus import _Client, close, connect, may_publish
from shared.devstack import free_port, nats_server_binary
from shared.nats_config import permissions
from tests.support import System


@pytest.fixture
def without_flow_control(tmp_path: Path) -> Iterator[str]:
    """A nats-server whose ledger user lacks `$JS.FC.>`; its URL as that user."""
    granted = permissions("ledger")
    assert granted is not None
    publish = granted["publish"]
    assert isinstance(publish, dict) and "$JS.FC.>" in publish["allow"]
    publish["allow"] = [subject for subject in publish["allow"] if subject != "$JS.FC.>"]
    port = free_port()
    config = tmp_path / "nats.conf"
    config.write_text(f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: {json.dumps(str(tmp_path / "js"))} }}\n'
                      "authorization { users: [ "
                      f'{{ user: ledger, password: pw, permissions: {json.dumps(granted)} }} ] }}\n')
    server = subprocess.Popen([nats_server_binary(), "-c", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        yield f"nats://ledger:pw@127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def database_only(tmp_path: Path) -> Iterator[System]:
    sys_ = System(tmp_path / "system", services=()).start()
    yield sys_
    sys_.stop()


async def test_a_ledger_whose_nats_user_may_not_answer_flow_control_refuses_to_start(
        database_only: System, without_flow_control: str) -> None:
    database_only.extra_env["CADRE_NATS_URL"] = without_flow_control
    with pytest.raises(RuntimeError) as refused:
        await asyncio.to_thread(database_only.start_service, "ledger")
    assert "ledger exited with 1" in str(refused.value), "it stops, rather than run ready and stalled"
    assert "may not publish to $JS.FC.>" in str(refused.value) and "cadre-ledger nats-config" in str(refused.value)


async def test_refusals_are_kept_only_for_what_may_publish_asks(without_flow_control: str) -> None:
    """Found by the review of the day's commits: every publication the server refused left its subject in the
    connection's `refused` for good, so a user lacking `$JS.FC.>` grew it by one subject per flow control request
    (`$JS.FC.<stream>.<consumer>.<token>`, a token of its own each time), without bound."""
    nc = await connect(without_flow_control, "cadre-test", 5)
    try:
        for n in range(300):  # what a writer answering flow control without the permission sends
            await nc.publish(f"$JS.FC.CADRE.ledger-writer.{n}token", b"")
        await nc.flush(5)
        assert await may_publish(nc, "$JS.FC.CADRE.ledger-writer.probe", 5) is False, "a refusal is still seen"
        assert await may_publish(nc, "access.probe", 5) is True
        await nc.flush(5)
        assert isinstance(nc, _Client)
        assert nc.refused == set() and nc.asking == {}, f"{len(nc.refused)} refusals kept"
    finally:
        await close(nc)
