"""The benchmark reads where the writer's batches spent their time, and how slow commits were spread over a run."""

from __future__ import annotations

import pytest

from bench.ingest import Latency, batch_times, episodes
from bench.pgstats import PageReads, Statement
from bench.reads import ReadLatency
from bench.report import Results, rows
from bench.why import batch_line, episodes_line, pages_line, why


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
    reading: dict[str, float] = {"ledger_batch_size_count": 3, "ledger_batch_size_sum": 30}
    assert batch_times(reading, reading) is None and batch_times({}, {}) is None


@pytest.mark.parametrize(("points", "expected"), [
    ([], (0, 0, 0, 0)),
    # every window fast
    ([(10.0, 20.0), (10.3, 99.0), (10.6, 30.0)], (3, 0, 0, 0)),
    # one slow event makes its window slow; windows count from the first publish, empty ones are fast
    ([(10.0, 20.0), (10.3, 150.0), (11.1, 30.0)], (5, 1, 1, 1)),
    # two episodes, the longest three windows long
    ([(0.0, 120.0), (0.3, 20.0), (0.5, 101.0), (0.8, 300.0), (1.0, 200.0), (1.3, 10.0)], (6, 4, 2, 3)),
])
def test_episodes_are_runs_of_windows_with_a_commit_over_the_limit(
        points: list[tuple[float, float]], expected: tuple[int, int, int, int]) -> None:
    e = episodes(points, width=0.25, limit=100.0)
    assert (e.windows, e.slow, e.episodes, e.longest) == expected
    if e.windows:
        assert "longest" in episodes_line(e) and f"{e.slow} held an event" in episodes_line(e)


def test_a_latency_miss_is_explained_by_its_episodes_postgres_connections_and_statements() -> None:
    latency = Latency(12_000.0, 240_000, 80.0, 300.0, 90.0, 350.0, cpu={"ledger": 0.6},
                      episodes=episodes([(0.0, 20.0), (0.3, 250.0), (0.6, 180.0), (0.9, 30.0)]),
                      statements=[Statement('COPY "ledger_events"', 600, 240_000, 5000.0, 0.6)],
                      pg_cpu={"cadre-ledger-writer": 0.21, "cadre-ledger-read-models": 0.23})
    r = Results(quick=False, events=1_000_000, chunk=100_000, durable=True, latency=latency)
    row = next(w for w in rows(r) if w.what.startswith("publish->committed"))
    text = "\n".join(why(r, row))
    assert "MISSED" in row.verdict
    assert "of the step's 4 windows of 250 ms (by publish time), 2 held an event committed more than 100 ms" in text
    assert "cadre-ledger-read-models 0.23, cadre-ledger-writer 0.21" in text
    assert '`COPY "ledger_events"...` 60%' in text


@pytest.mark.parametrize(("hit", "read", "pages", "share"), [
    (10_200, 0, 102, 0.0),  # every page in shared buffers
    (6_120, 4_080, 102, 0.4),  # 40% of them read from outside
    (0, 0, 0, 0.0),  # no pages at all (not a division by zero)
])
def test_page_reads_count_pages_per_answer_and_the_share_read_from_outside(
        hit: int, read: int, pages: float, share: float) -> None:
    reads = PageReads(calls=100, ms=80.0, hit=hit, read=read)
    assert reads.pages_per_call == pytest.approx(pages) and reads.read_share == pytest.approx(share)


def test_the_history_growth_miss_names_where_the_page_query_found_its_pages() -> None:
    r = Results(quick=False, events=1_000_000, chunk=100_000, durable=True)
    r.history_small = ReadLatency(2000, 1.5, 3.0, 500.0, 100.0)
    r.history_large = ReadLatency(2000, 1.6, 4.5, 480.0, 100.0)
    r.history_pages = {1_000_000: PageReads(2000, 2400.0, 122_400, 81_600),
                       100_000: PageReads(2000, 1600.0, 204_000, 0)}
    growth = next(row for row in rows(r) if row.what.startswith("growth: history"))
    lines = why(r, growth)
    assert pages_line(r) in lines
    assert pages_line(r) == ("- The page query of the timed history reads, in PostgreSQL (pg_stat_statements): "
                             "at 100,000 events 0.80 ms a query, 102 pages an answer, 0% of them from outside "
                             "shared_buffers; at 1,000,000 events 1.20 ms a query, 102 pages an answer, 40% of them "
                             "from outside shared_buffers.")
