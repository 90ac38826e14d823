"""Each service connects to NATS as itself; only command services publish cadre events (real nats-server)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import nats
import nats.errors
import nats.js.errors
import pytest
import yaml

from shared.devstack import free_port, nats_server_binary, nats_url_as
from shared.nats_config import (
    JETSTREAM_SYNC_INTERVAL,
    USERS,
    deploy_config,
    dev_config,
    helm_authorization,
    helm_env,
    helm_nats_box_env,
    password_variable,
)
from tests.support import System, audit_event

ROOT = Path(__file__).resolve().parents[1]


def url(system: System, user: str) -> str:
    assert system.stack is not None
    return nats_url_as(system.nats_url, system.stack.data_dir / "nats", user)


async def publish_ok(nats_url: str, subject: str, data: bytes) -> bool:
    """True when JetStream stored the message; False when the server refused it."""
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(nats_url, error_cb=on_error, allow_reconnect=False)
    try:
        await nc.jetstream().publish(subject, data, timeout=2)
        return True
    except (nats.errors.Error, TimeoutError):
        return False
    finally:
        await nc.close()


async def test_only_command_services_publish_cadre_events(system: System) -> None:
    event = audit_event("PERM1")
    assert await publish_ok(url(system, "audit"), event.nats_subject, event.canonical())
    assert not await publish_ok(url(system, "ledger"), event.nats_subject, event.canonical()), \
        "the ledger only consumes cadre events"


@pytest.mark.parametrize("subject", ["ledger.checkpoints", "access.X1", "access.bulk.431021"])
async def test_command_services_cannot_forge_checkpoints_or_access_records(system: System, subject: str) -> None:
    assert not await publish_ok(url(system, "rotation"), subject, b"forged")


async def test_only_the_rotation_service_records_reads_of_personal_data(system: System) -> None:
    assert await publish_ok(url(system, "rotation"), "access.person.X1", b"{}")
    assert not await publish_ok(url(system, "audit"), "access.person.X1", b"{}")


async def test_services_cannot_delete_the_stream(system: System) -> None:
    nc = await nats.connect(url(system, "assessment"), allow_reconnect=False)
    try:
        with pytest.raises((nats.errors.Error, TimeoutError)):
            await asyncio.wait_for(nc.jetstream().delete_stream("CADRE"), 3)
    finally:
        await nc.close()


async def test_anonymous_and_wrong_passwords_are_refused(system: System) -> None:
    host = system.nats_url.rsplit("@", 1)[1]
    for bad in (f"nats://{host}", f"nats://audit:wrong@{host}"):
        with pytest.raises((nats.errors.Error, OSError)):
            await nats.connect(bad, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


def test_production_nats_config_is_generated_and_valid(tmp_path: Path) -> None:
    committed = ROOT / "deploy" / "nats" / "nats.conf"
    assert committed.read_text() == deploy_config(), "drifted: run `cadre-ledger nats-config --write`"
    env = {password_variable(user): f"pw-{user}" for user in USERS}
    ok = subprocess.run([nats_server_binary(), "-c", str(committed), "-t"], env=env, capture_output=True, text=True,
                        cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([nats_server_binary(), "-c", str(committed), "-t"], capture_output=True, text=True,
                             env={password_variable("admin"): "x"}, cwd=tmp_path)
    assert missing.returncode != 0 and "CADRE_NATS_LEDGER_PASSWORD" in missing.stderr + missing.stdout


def test_the_helm_values_carry_every_user_and_nats_server_accepts_them(tmp_path: Path) -> None:
    """deploy/k8s/nats-values.yaml holds the same users and permissions as every other configuration, and the
    block the chart writes from it (`<< $VAR >>` unquoted) is one nats-server accepts, passwords from its
    environment."""
    values = yaml.safe_load((ROOT / "deploy" / "k8s" / "nats-values.yaml").read_text())
    authorization = values["config"]["merge"]["authorization"]
    assert authorization == helm_authorization(), "drifted from shared/nats_config.py"
    assert values["container"]["env"] == helm_env()
    box = values["natsBox"]["container"]["env"]
    assert box == helm_nats_box_env()
    assert box["NATS_USER"] == "admin"
    assert box["NATS_PASSWORD"] == values["container"]["env"][password_variable("admin")]
    rendered = json.dumps({"listen": "127.0.0.1:-1", "authorization": authorization})
    for user in USERS:
        rendered = rendered.replace(f'"<< ${password_variable(user)} >>"', f"${password_variable(user)}")
    assert "<<" not in rendered
    config = tmp_path / "helm.conf"
    config.write_text(rendered)
    env = {password_variable(user): f"pw-{user}" for user in USERS}
    ok = subprocess.run([nats_server_binary(), "-c", str(config), "-t"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([nats_server_binary(), "-c", str(config), "-t"], capture_output=True, text=True,
                             env={password_variable("admin"): "x"})
    assert missing.returncode != 0 and "CADRE_NATS_LEDGER_PASSWORD" in missing.stderr + missing.stdout


def test_every_nats_configuration_syncs_jetstream_every_second(tmp_path: Path) -> None:
    """The dev stack's server reports the interval it runs with; the deployments carry the same one."""
    port, monitor = free_port(), free_port()
    config = tmp_path / "nats.conf"
    config.write_text(dev_config(port, {user: f"pw-{user}" for user in USERS}))
    server = subprocess.Popen([nats_server_binary(), "-c", str(config), "-js", "-sd", str(tmp_path / "js"),
                               "-m", str(monitor)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        varz: dict[str, Any] = {}
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=1) as answer:
                    varz = json.load(answer)
                break
            except OSError:
                time.sleep(0.1)
        assert varz["jetstream"]["config"]["sync_interval"] == 1_000_000_000  # nanoseconds
    finally:
        server.terminate()
        server.wait(10)
    assert f'sync_interval: "{JETSTREAM_SYNC_INTERVAL}"' in deploy_config()
    values = yaml.safe_load((ROOT / "deploy" / "k8s" / "nats-values.yaml").read_text())
    assert values["config"]["jetstream"]["merge"] == {"sync_interval": JETSTREAM_SYNC_INTERVAL}
