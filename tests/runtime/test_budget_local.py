"""The in-process budget (SQLite, ``twoway dev``, and the shared budget's fallback share)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.runtime.budget import BudgetSpec, LocalBudget
from tests.runtime.budget_checks import Recorder, most_in_any_window
from tests.waiting import eventually


async def test_never_more_than_the_limit_in_any_window() -> None:
    budget = LocalBudget(BudgetSpec("local-exact", limit=5, window_s=0.2))
    recorder = Recorder()
    await asyncio.gather(*(recorder.request(budget) for _ in range(23)))
    assert len(recorder.spans) == 23
    assert most_in_any_window(recorder.spans, 0.2) == 5


async def test_a_pause_holds_back_everyone() -> None:
    budget = LocalBudget(BudgetSpec("local-pause", limit=100, window_s=1.0))
    budget.slow_down(0.3)
    asked = time.monotonic()
    async with budget.slot():
        granted = time.monotonic()
    assert granted - asked >= 0.3


async def test_a_live_request_goes_before_the_bulk_backlog() -> None:
    budget = LocalBudget(BudgetSpec("local-lanes", limit=2, window_s=0.1))
    recorder = Recorder()
    bulk = [asyncio.create_task(recorder.request(budget, "bulk")) for _ in range(12)]
    await eventually(lambda: len(recorder.spans) >= 2)
    before = len(recorder.spans)
    await recorder.request(budget, "live")
    await asyncio.gather(*bulk)
    order = [s.lane for s in recorder.started()]
    # The live request was the next one let through (one more bulk at most: it may already
    # have been granted, not yet started, when the live one asked).
    assert order.index("live") <= before + 1
    assert order.count("bulk") == 12


async def test_a_waiter_cancelled_takes_no_slot_with_it() -> None:
    spec = BudgetSpec("local-cancel", limit=1, window_s=0.2, pace=False)
    budget = LocalBudget(spec)
    async with budget.slot():
        waiter = asyncio.create_task(budget.acquire("live"))
        await eventually(lambda: budget._waiters.count("live") == 1, what="the waiter queued")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    # Only the request that was sent counts; the next one goes a window after its answer.
    assert budget.busy(time.monotonic()) == 1
    async with budget.slot():
        pass
    await budget.close()
