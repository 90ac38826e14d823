"""The benchmark's replay and verify figures are the median of several passes, with every pass's rate."""

from __future__ import annotations

import asyncio

import pytest

from bench.integrity import Replay, Verify, median_pass
from bench.markdown import median_note


def _replays(rates: list[float]) -> list[Replay]:
    return [Replay(events=100_000, seconds=100_000 / rate, models=9, apply_seconds={"pass": i})
            for i, rate in enumerate(rates)]


@pytest.mark.parametrize(("rates", "median", "chosen"), [
    ([90_000.0], 90_000.0, 0),
    ([120_000.0, 80_000.0, 100_000.0], 100_000.0, 2),
    ([100_000.0, 100_000.0, 70_000.0], 100_000.0, 0),
    ([4.0, 1.0, 3.0, 2.0], 2.0, 3),  # an even count takes the lower of the middle two
])
async def test_the_median_pass_is_chosen_and_every_pass_kept_in_order(rates: list[float], median: float,
                                                                      chosen: int) -> None:
    runs = iter(_replays(rates))

    async def once() -> Replay:
        return next(runs)

    result = await median_pass(len(rates), once)
    assert result.rate == pytest.approx(median)
    assert result.apply_seconds == {"pass": chosen}, "the median pass's own details come with its rate"
    assert result.passes == pytest.approx(rates)


async def test_passes_run_one_after_another() -> None:
    running, most = 0, 0

    async def once() -> Verify:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return Verify(events=10, rate=10.0, ok=True, how="test")

    assert (await median_pass(3, once)).passes == [10.0, 10.0, 10.0]
    assert most == 1, "a pass never shares the machine with another"


async def test_no_pass_is_refused() -> None:
    async def once() -> Verify:
        raise AssertionError("not run")

    with pytest.raises(ValueError, match="at least one pass"):
        await median_pass(0, once)


@pytest.mark.parametrize(("rates", "text"), [
    ([], ""),
    ([96_122.0], ""),
    ([96_122.0, 104_000.5, 99_000.0], " (the median of 3 passes: 96,122, 104,000, 99,000 events/s)"),
])
def test_the_report_names_the_passes_of_a_median(rates: list[float], text: str) -> None:
    assert median_note(rates) == text
