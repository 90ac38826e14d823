"""The benchmark reads where the writer's batches spent their time from the ledger's histograms."""

from __future__ import annotations

import pytest

from bench.ingest import batch_times
from bench.why import batch_line


def test_batch_times_are_what_the_histograms_added_during_the_run() -> None:
    before = {"ledger_batch_size_count": 10, "ledger_batch_size_sum": 500, "ledger_batch_wait_seconds_sum": 0.1,
              "ledger_batch_plan_seconds_sum": 0.05, "ledger_batch_queue_seconds_sum": 0.0,
              "ledger_batch_commit_seconds_sum": 0.2}
    after = {"ledger_batch_size_count": 14, "ledger_batch_size_sum": 900, "ledger_batch_wait_seconds_sum": 0.148,
             "ledger_batch_plan_seconds_sum": 0.074, "ledger_batch_queue_seconds_sum": 0.008,
             "ledger_batch_commit_seconds_sum": 0.26}
    times = batch_times(before, after)
    assert times is not None and times.batches == 4 and times.mean_size == 100
    assert times.mean_ms == pytest.approx({"waited": 12.0, "planned": 6.0, "queued": 2.0, "committed": 15.0})
    line = batch_line(times)
    assert "4 batches of 100 messages" in line and "waited 12.0 ms" in line and "transaction 15.0 ms" in line


def test_no_batch_committed_means_no_batch_times() -> None:
    reading = {"ledger_batch_size_count": 3, "ledger_batch_size_sum": 30}
    assert batch_times(reading, reading) is None and batch_times({}, {}) is None
