"""The suite's one wait: returns the first truthy value, fails loudly with the last one seen."""

from __future__ import annotations

import asyncio

import pytest

from tests.waiting import WaitTimedOut, ended, eventually


async def test_returns_the_first_truthy_value_of_a_sync_or_async_check() -> None:
    calls = iter([0, 0, 7])
    assert await eventually(lambda: next(calls)) == 7

    async def ready() -> str:
        return "yes"

    assert await eventually(ready) == "yes"


async def test_fails_at_the_deadline_naming_the_wait_and_the_last_value() -> None:
    with pytest.raises(WaitTimedOut, match=r"the queue drained: .* last value seen: \[\]"):
        await eventually(lambda: [], timeout=0.05, what="the queue drained")
    with pytest.raises(AssertionError, match=r"last value seen: 0"):
        await eventually(lambda: 0, timeout=0.05)


async def test_a_task_that_will_not_end_fails_with_its_stack() -> None:
    deafness = [True]

    async def deaf() -> None:
        while deafness[0]:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue  # the fault under test: a cancel swallowed

    task = asyncio.create_task(deaf())
    await asyncio.sleep(0)  # one loop turn: it is waiting now
    task.cancel()
    with pytest.raises(WaitTimedOut, match=r"(?s)the deaf task: not ended within .*in deaf"):
        await ended(task, 0.1, "the deaf task")
    deafness[0] = False
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
