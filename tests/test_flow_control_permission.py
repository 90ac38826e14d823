"""A ledger whose NATS user may not answer JetStream's flow control refuses to start, naming the permission; one
whose permission is withdrawn while it runs says it is not ready, and why, until the permission is back.

Found by the last session: the writer's push consumer uses flow control, and with a NATS user lacking publish
permission on `$JS.FC.>` the ledger started, reported itself ready, appended the first window (about 2 MB) and then
stalled for good, the server's refusal only logged. Here a real nats-server gives the ledger user every permission
of `shared.nats_config` but that one.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nats
import orjson
import pytest

from shared.bus import _Client, close, connect, may_publish
from shared.devstack import free_port, nats_server_binary
from shared.envelope import cadre_subject
from shared.nats_config import permissions
from tests.support import System, call, committed_seq, ledger_metrics, new_cadre_id, wait_committed, wait_until


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


FLOW_CONTROL = '"$JS.FC.>", '
"""How the dev stack's nats.conf grants the ledger user flow control (`shared.nats_config.render`)."""


@pytest.fixture
def own_ledger(tmp_path: Path) -> Iterator[System]:
    """A private system: the test reloads its nats-server's configuration."""
    sys_ = System(tmp_path / "system", services=("ledger",)).start()
    yield sys_
    sys_.stop()


async def _reload_nats(system: System, flow_control: bool) -> None:
    """Grant or withdraw the ledger user's `$JS.FC.>` and have the running nats-server reload its configuration
    (SIGHUP), as an operator editing deploy/nats/nats.conf would: connections stay up, with the new permissions."""
    assert system.stack is not None
    server = system.stack.server("nats")
    config = server.logfile.parent / "nats.conf"
    text = config.read_text()
    granted = text if FLOW_CONTROL in text else text.replace('"$JS.ACK.>", ', '"$JS.ACK.>", ' + FLOW_CONTROL)
    config.write_text(granted if flow_control else granted.replace(FLOW_CONTROL, ""))
    reloads = server.logfile.read_text().count("Reloaded server configuration")
    server.proc.send_signal(signal.SIGHUP)

    async def reloaded() -> bool:
        return (await asyncio.to_thread(server.logfile.read_text)).count("Reloaded server configuration") > reloads

    await wait_until(reloaded, timeout=10)


async def _more_than_a_window(nats_url: str, messages: int = 40, size: int = 900_000) -> int:
    """Large messages that are not events (quarantined, but delivered like any), more bytes than one flow control
    window; the stream sequence of the last."""
    subject, filler = cadre_subject("431021", new_cadre_id("FC")), bytes(range(256)) * (size // 256)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for n in range(messages):
            ack = await js.publish(subject, n.to_bytes(4, "big") + filler, timeout=10)
    finally:
        await nc.close()
    return int(ack.seq)


async def test_flow_control_withdrawn_while_the_ledger_runs_is_told_by_readiness_metrics_and_log(
        own_ledger: System) -> None:
    """Found by review: with `$JS.FC.>` withdrawn from a running ledger (nats.conf reloaded), its writer appended one
    window and stalled, and the ledger stayed ready; only an error line in the log (and the lag) said so. Now
    readiness names the permission and `ledger_flow_control_refused` is 1 until it is granted again, when the writer
    resumes by itself and everything published meanwhile is appended."""
    system = own_ledger
    await _reload_nats(system, flow_control=False)
    last = await _more_than_a_window(system.nats_url)

    async def not_ready() -> dict[str, list[str]] | None:
        status, body, _ = await call("GET", f"{system.url('ledger')}/readyz")
        return body if status == 503 else None

    body = await wait_until(not_ready, timeout=20)
    assert any("$JS.FC.>" in reason and "cadre-ledger nats-config" in reason for reason in body["reasons"]), body
    assert (await ledger_metrics(system))["ledger_flow_control_refused"] == 1
    assert await committed_seq(system.pg_dsn) < last, "the writer is stalled"
    logged = [orjson.loads(line) for line in system.procs["ledger"].log_path.read_text().splitlines()
              if line.startswith("{")]
    assert any(r["level"] == "error" and "$JS.FC.>" in r["msg"] for r in logged), "the log names the permission"

    await _reload_nats(system, flow_control=True)
    await wait_committed(system.pg_dsn, last, timeout=30)

    async def ready() -> bool:
        return (await call("GET", f"{system.url('ledger')}/readyz"))[0] == 200

    await wait_until(ready, timeout=10)
    assert (await ledger_metrics(system))["ledger_flow_control_refused"] == 0
