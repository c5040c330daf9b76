"""Keeping cancellation intact in loops that survive errors.

A task cancelled while a driver is mid-query can see the driver's own error (aiomysql raises
``InterfaceError("Cancelled during execution")`` from the rollback) instead of CancelledError.
A loop that retries on ``Exception`` would then swallow the cancellation and never stop.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    """Re-raise CancelledError when the current task has been asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


async def nap(event: asyncio.Event, seconds: float | None) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass (None: no limit); whether it was set.

    ``asyncio.wait_for`` on Python 3.11 swallows a cancellation that arrives in the same loop
    turn as the event (it returns the result of the finished wait instead): a loop napping that
    way can miss its stop and hang whoever awaits it. ``asyncio.timeout`` keeps it.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
