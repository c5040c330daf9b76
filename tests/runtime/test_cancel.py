"""A loop's nap keeps a cancellation that arrives in the same turn as its wake-up."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import pytest

from services.runtime.cancel import nap


async def _cancel_as_it_wakes(wait: Callable[[asyncio.Event], Awaitable[object]]) -> bool:
    """Whether the waiting task ended cancelled when the event and the cancel came together."""
    event = asyncio.Event()
    task = asyncio.create_task(wait(event))
    await asyncio.sleep(0)  # scenario: one loop turn, so the task now waits on the event
    event.set()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


async def test_nap_is_cancelled_when_the_cancel_meets_the_wake_up() -> None:
    assert await _cancel_as_it_wakes(lambda e: nap(e, 10.0))
    assert await _cancel_as_it_wakes(lambda e: nap(e, None))


async def test_nap_reports_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert not await nap(event, 0.01)
    event.set()
    assert await nap(event, 10.0)


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="the swallowed cancellation is Python 3.11's wait_for",
)
async def test_why_not_wait_for() -> None:
    """The fault nap avoids: on 3.11 wait_for returns the finished wait and drops the cancel
    (the budget loop then never stopped, and a test's teardown hung for 300 s)."""
    assert not await _cancel_as_it_wakes(lambda e: asyncio.wait_for(e.wait(), 10.0))
