"""Configuration from `CADRE_*` variables: what a service does with one that does not fit, through its real entry
points (a service's `python -m` and the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.keys import ensure_keypair
from shared.settings import Settings


def _start(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    return subprocess.run(argv, env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("argv", [[sys.executable, "-m", "services.ledger.main"],
                                  [sys.executable, "-m", "services.audit.main"],
                                  [sys.executable, "-m", "shared.cli", "run"]])
def test_a_setting_that_does_not_fit_ends_the_start_naming_each_variable(argv: list[str]) -> None:
    started = _start(argv, CADRE_BATCH_SIZE="0", CADRE_LEDGER_PORT="70000", CADRE_LOG_LEVEL="verbose")
    assert started.returncode == 2, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    lines = started.stderr.strip().splitlines()
    assert lines[0] == "invalid configuration (配置无效):"
    assert "  CADRE_BATCH_SIZE='0': Input should be greater than or equal to 1 (须不小于 1)" in lines
    assert "  CADRE_LEDGER_PORT='70000': Input should be less than or equal to 65535 (须不大于 65535)" in lines
    assert any(line.startswith("  CADRE_LOG_LEVEL='VERBOSE'") and "'INFO'" in line for line in lines), lines


@pytest.mark.parametrize(("url", "shown"), [
    ("nats://cadre:s3cret-pw@127.0.0.1:notaport", "nats://cadre:***@127.0.0.1:notaport"),
    ("http://s3cret-pw@127.0.0.1:4222", "http://***@127.0.0.1:4222"),
    # found by review: each shown whole, password and all
    ("cadre:s3cret-pw@127.0.0.1:notaport", "cadre:***@127.0.0.1:notaport"),  # no scheme, which nats-py allows
    ("nats://cadre:one@10.0.0.1:4222,nats://cadre:s3cret-pw@10.0.0.2:4222",  # several servers, as nats.go takes them
     "nats://cadre:***@10.0.0.1:4222,nats://cadre:***@10.0.0.2:4222"),
    ("nats://cadre:s3cret/pw+b64==@127.0.0.1:4222", "nats://cadre:***@127.0.0.1:4222"),  # / ? # not percent-encoded
    ("nats://cadre:s3cret?pw@127.0.0.1:4222", "nats://cadre:***@127.0.0.1:4222"),
    ("nats://cadre:s3cret#pw@127.0.0.1:4222", "nats://cadre:***@127.0.0.1:4222"),
    # found by review: refused as "Invalid IPv6 URL (字段无效: Value error, Invalid IPv6 URL)", no word of a NATS URL
    ("nats://cadre:s3cret-pw@[::1:4222", "nats://cadre:***@[::1:4222"),
    ("nats://cadre:s3cret-pw@127.0.0.1:0", "nats://cadre:***@127.0.0.1:0")])  # was tried every 0.5 s for good
def test_a_nats_url_nats_cannot_read_ends_the_start_without_showing_its_secret(url: str, shown: str) -> None:
    # nats-py refused it only at the first connect, with a traceback that printed the URL whole, password and all
    started = _start([sys.executable, "-m", "services.audit.main"], CADRE_NATS_URL=url)
    assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
    assert "s3cret-pw" not in started.stderr, started.stderr
    assert f"  CADRE_NATS_URL='{shown}': Value error, a NATS URL is nats://" in started.stderr, started.stderr
    assert started.stderr.count("NATS 地址格式无效") == 1, "the Chinese is said once"


@pytest.mark.parametrize(("variable", "dsn", "shown"), [
    ("CADRE_PG_DSN", "postgresql://cadre:s3cret#pw@127.0.0.1:9/cadre", "postgresql://cadre:***@127.0.0.1:9/cadre"),
    ("CADRE_PG_DSN", "postgresql://cadre:s3cret/pw@127.0.0.1:9/cadre", "postgresql://cadre:***@127.0.0.1:9/cadre"),
    ("CADRE_PG_DSN", "postgresql://cadre:pw?s3cret@127.0.0.1:9/cadre", "postgresql://cadre:***@127.0.0.1:9/cadre"),
    ("CADRE_PG_WRITER_DSN", "postgresql://w:s3cret/pw@127.0.0.1:9/cadre", "postgresql://w:***@127.0.0.1:9/cadre"),
])
def test_a_dsn_asyncpg_cannot_read_ends_the_start_without_showing_its_password(
        tmp_path: Path, variable: str, dsn: str, shown: str) -> None:
    """Found by review: a password holding / ? or # (not percent-encoded) ended the host early, and the start ended
    in asyncpg's traceback, which quoted part of it: `ValueError: invalid literal for int() with base 10: 's3cret'`
    (or the start waited for a PostgreSQL at the wrong address)."""
    keys = ensure_keypair(tmp_path, "test-log")[0]
    env = {"CADRE_NATS_URL": "nats://127.0.0.1:9", "CADRE_PG_DSN": "postgresql://x@127.0.0.1:9/x",
           "CADRE_AUTH_DISABLED": "true", "CADRE_CHECKPOINT_KEY_FILE": str(keys), variable: dsn}
    started = _start([sys.executable, "-m", "services.ledger.main"], **env)
    assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
    assert "s3cret" not in started.stderr, started.stderr
    assert f"  {variable}='{shown}': Value error, a PostgreSQL DSN is postgresql://" in started.stderr, started.stderr


def test_a_list_that_is_not_json_ends_the_start_naming_its_variable() -> None:
    started = _start([sys.executable, "-m", "services.ledger.main"], CADRE_WITNESS_KEYS="gy-audit+1234+abc")
    assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
    assert "CADRE_WITNESS_KEYS is not JSON" in started.stderr and '["a", "b"]' in started.stderr, started.stderr


def test_the_cli_reads_the_settings_only_for_what_it_was_not_given() -> None:
    """As docs/configuration.md says: a variable meant for a service cannot stop a command given what it needs."""
    given = _start([sys.executable, "-m", "shared.cli", "history", "GY0001", "--url", "http://127.0.0.1:9",
                    "--token", "t"], CADRE_COUNTIES="not json")
    assert given.returncode == 2 and "无法连接账本" in given.stderr and "配置无效" not in given.stderr, given.stderr
    needed = _start([sys.executable, "-m", "shared.cli", "history", "GY0001", "--token", "t"],
                    CADRE_COUNTIES="not json")
    assert needed.returncode == 2 and "CADRE_COUNTIES is not JSON" in needed.stderr, needed.stderr
    doc = " ".join((Path(__file__).parents[1] / "docs" / "configuration.md").read_text().split())
    assert "stops the service (and the CLI)" not in doc
    assert "The CLI reads the settings only when a command needs one it was not given as an option" in doc


def test_the_log_level_is_taken_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADRE_LOG_LEVEL", "warning")
    assert Settings().log_level == "WARNING"


@pytest.mark.parametrize("module", ["services.ledger.main", "services.audit.main", "services.rotation.main",
                                    "services.assessment.main"])
def test_a_service_without_nats_or_postgresql_says_which_variable_to_set(module: str) -> None:
    started = _start([sys.executable, "-m", module], CADRE_AUTH_DISABLED="true")
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    assert "CADRE_NATS_URL is not set (未设置)" in started.stderr, started.stderr


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("CADRE_CHECKPOINT_KEY_FILE", "/nonexistent/ledger.skey", "cannot read signing key"),
    ("CADRE_WITNESS_KEYS", '["/"]', "无法读取公钥文件"),
    ("CADRE_WITNESS_KEYS", '["not-a-key"]', "公钥文件不存在"),
])
def test_the_ledger_with_a_key_it_cannot_read_stops_naming_the_variable(
        tmp_path: Path, variable: str, value: str, says: str) -> None:
    keys = ensure_keypair(tmp_path, "test-log")[0]
    # Servers nothing listens on: the keys are read before anything is connected to.
    env = {"CADRE_NATS_URL": "nats://127.0.0.1:9", "CADRE_PG_DSN": "postgresql://x@127.0.0.1:9/x",
           "CADRE_AUTH_DISABLED": "true", "CADRE_CHECKPOINT_KEY_FILE": str(keys), variable: value}
    started = _start([sys.executable, "-m", "services.ledger.main"], **env)
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    assert f"{variable}: " in started.stderr and says in started.stderr, started.stderr


@pytest.mark.parametrize(("value", "says"), [
    ('["431021", "4310"]', "String should match pattern '^[0-9]{6}$'"),
    ('["431021", "431021"]', "counties given more than once (县重复): 431021"),
])
def test_a_partitions_counties_are_county_codes_each_given_once(value: str, says: str) -> None:
    started = _start([sys.executable, "-m", "services.rotation.main"], CADRE_COUNTIES=value)
    assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
    assert "CADRE_COUNTIES" in started.stderr and says in started.stderr, started.stderr


@pytest.mark.parametrize("value", ["hn", "HN_", "hn-", "1hn_", "hn; DROP ROLE x;_"])
def test_a_role_prefix_is_lowercase_letters_and_digits_ending_in_an_underscore(value: str) -> None:
    """CADRE_PG_ROLE_PREFIX goes into role names and SQL: anything but `[a-z][a-z0-9]*_` ends the start."""
    started = _start([sys.executable, "-m", "services.ledger.main"], CADRE_PG_ROLE_PREFIX=value)
    assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
    assert "CADRE_PG_ROLE_PREFIX" in started.stderr and "String should match pattern" in started.stderr, started.stderr
