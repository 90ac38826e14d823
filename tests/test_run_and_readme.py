"""`cadre-ledger run --demo` (what `make run` calls) brings everything up; the README example works."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.signednote import ED25519_TYPE, Verifier

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- example:start -->\s*```sh\n(.*?)```\s*<!-- example:end -->", text, re.S)
    assert block, "README.md has no example block"
    return block.group(1)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands in for the project directory: `make run` keeps its data (and tokens) in ./var."""
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="module")
def running(workdir: Path) -> Iterator[str]:
    data = workdir / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("CADRE_NATS_URL", "CADRE_PG_DSN")}
    # started as a shell script's background job is: with SIGINT ignored, which Ctrl-C (SIGINT) must stop anyway
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "run", "--demo", "--data-dir", str(data)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.stdout is not None
    output = []
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        output.append(line)
        if "Ctrl-C" in line or time.monotonic() > deadline:
            break
    assert any("is running" in line for line in output), "".join(output)
    yield "".join(output)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(60)
        pytest.fail("cadre-ledger run did not stop on SIGINT (Ctrl-C)")
    assert "stopping" in proc.stdout.read()


def test_run_prints_every_service_url(running: str) -> None:
    for name, port in [("ledger", 8100), ("assessment", 8101), ("audit", 8102), ("rotation", 8103)]:
        assert re.search(rf"{name}\s+http://127\.0\.0\.1:{port}", running)
    assert "demo county 431021 loaded" in running
    page = re.search(r"auditor page \(审阅页面\) http://127\.0\.0\.1:8100/ .*save the log key (\S+\.vkey)", running)
    assert page, running
    assert Verifier.from_vkey(Path(page.group(1)).read_text().strip()).key_type == ED25519_TYPE


def test_run_keeps_tokens_and_secret_keys_to_their_owner(running: str, workdir: Path) -> None:
    """A dev token opens every county's records: like the signing keys, no other user may read it."""
    secrets = [*(workdir / "var" / "tokens").glob("*.token"), *(workdir / "var" / "keys").glob("*.skey"),
               workdir / "var" / "keys" / "token-issuer.pem"]
    assert len(secrets) == 5, secrets
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in secrets} == {
        path.name: oct(0o600) for path in secrets}


def test_readme_first_example_works_as_printed(running: str, workdir: Path) -> None:
    out = subprocess.run(["bash", "-c", readme_example()], capture_output=True, text=True, timeout=60, check=True,
                         cwd=workdir)
    first, second = out.stdout.split("}{", 1)
    accepted = json.loads(first + "}")
    assert accepted["committed"] is True and accepted["type"] == "cadre.registered", accepted
    history = json.loads("{" + second)
    assert history["cadre_id"] == "GY9001"
    [event] = history["events"]
    assert event["event"]["id"] == accepted["event_id"] and event["cadre_version"] == 1
    assert "张三" not in out.stdout and "431021198001010016" not in out.stdout, "personal data stays out"


def test_a_second_run_is_refused_naming_the_taken_port(running: str, workdir: Path) -> None:
    """Another program on a service's port would answer its /readyz and take the demo's data: refused first."""
    env = {k: v for k, v in os.environ.items() if k not in ("CADRE_NATS_URL", "CADRE_PG_DSN")}
    second = workdir / "second"
    result = subprocess.run([sys.executable, "-m", "shared.cli", "run", "--data-dir", str(second)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "port 8100 of the ledger service is in use by another program (端口被占用)" in result.stderr
    assert "CADRE_LEDGER_PORT" in result.stderr and "Traceback" not in result.stderr
    assert not second.exists(), "nothing was started"


def test_a_second_run_on_a_data_dir_in_use_is_refused_before_it_touches_it(running: str, workdir: Path) -> None:
    """Two nats-servers on one JetStream store corrupt it: the second run stops before starting anything."""
    env = {k: v for k, v in os.environ.items() if k not in ("CADRE_NATS_URL", "CADRE_PG_DSN")}
    env.update({f"CADRE_{name.upper()}_PORT": str(port) for name, port in
                [("ledger", 8110), ("assessment", 8111), ("audit", 8112), ("rotation", 8113)]})
    config = workdir / "var" / "nats" / "nats.conf"
    before = config.read_bytes()
    result = subprocess.run([sys.executable, "-m", "shared.cli", "run", "--data-dir", str(workdir / "var")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "is in use by another running cadre-ledger stack (数据目录正被占用)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert config.read_bytes() == before, "the running stack's NATS configuration was left as it was"
    with urllib.request.urlopen("http://127.0.0.1:8100/readyz", timeout=10) as answer:
        assert answer.status == 200, "the running stack still serves"
