"""`python -m bench --record-only`: the optimisation record is rewritten in place, the run's figures and
profiles kept (an earlier hand-made splice dropped the Profile section)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.markdown import with_record
from bench.report import PROFILE, RECORD
from bench.rounds import OPTIMISATIONS

ROOT = Path(__file__).parent.parent
FIGURES = "# Benchmarks\n\n## Results\n\n| what | figure |\n|---|---:|\n| drain | 9,462 ev/s |\n\n"
PROFILES = f"{PROFILE}\n\n### Ingest: the ledger process during the sustained drain\n\n| 12% | `plan_batch` |\n"


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_the_record_is_replaced_between_the_figures_and_the_profiles() -> None:
    old = FIGURES + f"{RECORD} (issue 8)\n\nan older record\n\n" + PROFILES
    new = with_record(old)
    assert new.startswith(FIGURES)
    assert new.endswith(PROFILES)
    assert "an older record" not in new
    assert OPTIMISATIONS.strip() in new


def test_a_report_without_profiles_gets_the_record_at_its_end() -> None:
    new = with_record(FIGURES + f"{RECORD} (issue 8)\n\nan older record\n")
    assert new == FIGURES + OPTIMISATIONS.rstrip("\n") + "\n\n"


def test_the_cli_rewrites_the_report_in_place(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text(FIGURES + f"{RECORD} (issue 8)\n\nan older record\n\n" + PROFILES, encoding="utf-8")
    done = _bench("--record-only", "--output", str(report))
    assert done.returncode == 0, done.stderr
    text = report.read_text(encoding="utf-8")
    assert text.startswith(FIGURES) and text.endswith(PROFILES) and "an older record" not in text
    assert OPTIMISATIONS.splitlines()[-1] in text


def test_the_cli_refuses_a_report_without_a_record(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text(FIGURES, encoding="utf-8")
    done = _bench("--record-only", "--output", str(report))
    assert done.returncode == 2
    assert "no '## What was optimised' section" in done.stderr
    assert report.read_text(encoding="utf-8") == FIGURES
    missing = _bench("--record-only", "--output", str(tmp_path / "absent.md"))
    assert missing.returncode == 2 and "absent.md" in missing.stderr
