"""The suite's one way to wait for something to happen: a condition, a deadline, a loud failure.

``eventually(check)`` calls ``check`` (a function returning a value or an awaitable of one)
until it returns something truthy, and returns that. At the deadline it fails the test with
``WaitTimedOut`` (an AssertionError) naming what it waited for and the last value it saw, so
a wait can never pass silently. Sleeps that are part of a scenario (a window passing, a message
held back on purpose) are written as such, with a comment; nothing else sleeps.
"""

from __future__ import annotations

import asyncio
import inspect
import io
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

T = TypeVar("T")

POLL_S = 0.05


class WaitTimedOut(AssertionError):
    """A condition was not met by its deadline."""


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = ...,
    interval: float = ...,
    what: str | None = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    timeout: float = ...,
    interval: float = ...,
    what: str | None = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = POLL_S,
    what: str | None = None,
) -> Any:
    """Poll ``check`` until it returns something truthy; return that, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value: Any = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            name = what or getattr(check, "__qualname__", repr(check))
            raise WaitTimedOut(f"{name}: not met within {timeout} s; last value seen: {value!r}")
        await asyncio.sleep(interval)


def stacks(tasks: Iterable[asyncio.Task[Any]]) -> str:
    """Where each task is awaiting now: what a stuck teardown needs to be explained."""
    out = io.StringIO()
    for task in tasks:
        task.print_stack(file=out)
    return out.getvalue()


async def ended(task: asyncio.Task[Any], timeout: float, what: str) -> None:
    """Wait for ``task`` to end (its outcome is the caller's to read); fail at the deadline with
    its stack and every other task's, instead of hanging until pytest-timeout, which shows no
    task's stack."""
    done, _ = await asyncio.wait([task], timeout=timeout)
    if not done:
        others = [t for t in asyncio.all_tasks() if t is not task and not t.done()]
        stuck = stacks([task])
        raise WaitTimedOut(
            f"{what}: not ended within {timeout} s\n{stuck}\nother tasks:\n{stacks(others)}"
        )
