"""Configuration from `CADRE_*` variables: what a service does with one that does not fit, through its real entry
points (a service's `python -m` and the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


def test_the_log_level_is_taken_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADRE_LOG_LEVEL", "warning")
    assert Settings().log_level == "WARNING"
