"""The benchmark harness cannot rot: a tiny `python -m bench --quick` run produces every report section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.integrity import PASSES
from bench.report import SECTIONS


def test_quick_bench_run_writes_every_section(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--events", "2000", "--output", str(report)],
                          capture_output=True, text=True, timeout=180, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"sections missing from the report: {missing}"
    assert "Steps that failed" not in text
    for figure in ("ingest, backlog drain", "history (100 events)", "replay", "replay of the demo county's mix",
                   "verify, full ledger",
                   "command POST complete", "publish->committed", "at half the live rate",
                   "the same by the harness's publisher (reply inbox)"):
        assert figure in text, f"{figure!r} missing from the results table"
    assert text.count(f" (the median of {PASSES} passes: ") == 3, "replay, the county's mix and verify give every pass"
    assert "### Ingest: PostgreSQL during the latency step at half the drain rate" in text
    assert "positions behind when it ended, caught up" in text, "each drain says how far the read models lagged"
    assert "- The page query of the timed history reads, in PostgreSQL (pg_stat_statements): at " in text
    assert "- page-cache writeback: a page is written back once dirty for " in text, "the kernel's writeback is given"
