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
