"""What every budget shares: its spec, the lanes, a grant, and ``slot()`` with its metrics."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from services.runtime.errors import Retryable
from services.runtime.metrics import (
    BUDGET_GRANTS,
    BUDGET_LIMIT,
    BUDGET_PAUSES,
    BUDGET_WAIT,
    BUDGET_WAITING,
    BUDGET_WINDOW,
)

Lane = Literal["live", "bulk"]
LANES: tuple[Lane, ...] = ("live", "bulk")
"""In order of priority: a waiting live request always goes before a waiting bulk one."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class BudgetSpec:
    """At most ``limit`` requests to one provider in any window of ``window_s`` seconds.

    ``name`` is the budget's key where it is shared (one per provider account).
    ``max_hold_s``: the longest one request may hold its slot; a shared slot is leased for that
    long, so a process that dies holding one gives it back by itself, and a request still
    running then is cancelled (``SlotExpired``). ``max_transit_s``: see the package docstring.
    ``pace``: spread requests one every ``window_s / limit`` (per-second limits); off for
    allocations (a daily quota may be spent in bursts).
    """

    name: str
    limit: int
    window_s: float
    max_hold_s: float = 30.0
    max_transit_s: float | None = None
    pace: bool = True

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a budget's limit must be at least 1")
        if self.window_s <= 0 or self.max_hold_s <= 0:
            raise ValueError("a budget's window and hold time must be positive")
        if not 0 < len(self.name) <= 64:
            raise ValueError("a budget's name has 1 to 64 characters")


@dataclass(frozen=True)
class Grant:
    """One request's permission. ``slot``/``lease`` name the shared row it came from (None:
    granted locally); ``deadline`` (monotonic) is when the request must be over."""

    granted_at: float
    slot: int | None = None
    lease: int = 0
    deadline: float | None = None


def seen_by(spec: BudgetSpec, grant: Grant, answered: float) -> float:
    """The latest instant the server can have seen a request answered at ``answered``."""
    if spec.max_transit_s is None:
        return answered
    return min(answered, grant.granted_at + spec.max_transit_s)


class SlotExpired(Retryable):
    """The request outlived its slot's lease (``max_hold_s``) and was cancelled."""


class Evicted(Exception):
    """The budget changed where its slots come from while this request waited: ask again."""


class LaneBudget(abc.ABC):
    """A budget: ``async with budget.slot(lane="bulk"): <one request>``.

    Use it as an async context manager (``async with budget:``) to start and stop it.
    """

    def __init__(self, spec: BudgetSpec, clock: Clock = time.monotonic) -> None:
        self.spec = spec
        self.clock = clock

    @property
    def limit(self) -> int:
        return self.spec.limit

    @abc.abstractmethod
    async def acquire(self, lane: Lane) -> Grant:
        """Wait for a slot (live before bulk); the caller must ``release`` it after."""

    @abc.abstractmethod
    def release(self, grant: Grant) -> None:
        """The request is over (answered, failed or cancelled)."""

    @abc.abstractmethod
    def pause(self, seconds: float) -> None:
        """Let no request through for ``seconds`` (the provider said it is over its limit)."""

    async def start(self) -> None:
        BUDGET_LIMIT.labels(self.spec.name).set(self.spec.limit)
        BUDGET_WINDOW.labels(self.spec.name).set(self.spec.window_s)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> LaneBudget:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def slow_down(self, seconds: float) -> None:
        """The provider answered "too many requests": pause every user of the budget."""
        BUDGET_PAUSES.labels(self.spec.name).inc()
        self.pause(seconds)

    @contextlib.asynccontextmanager
    async def slot(self, lane: Lane = "live") -> AsyncIterator[None]:
        """Hold one request's slot around the request."""
        asked = self.clock()
        waiting = BUDGET_WAITING.labels(self.spec.name, lane)
        waiting.inc()
        try:
            grant = await self.acquire(lane)
        finally:
            waiting.dec()
        BUDGET_WAIT.labels(self.spec.name, lane).observe(self.clock() - asked)
        BUDGET_GRANTS.labels(self.spec.name, lane).inc()
        try:
            if grant.deadline is None:
                yield
            else:
                async with _bounded(grant.deadline, self.spec.max_hold_s):
                    yield
        finally:
            self.release(grant)


@contextlib.asynccontextmanager
async def _bounded(deadline: float, max_hold_s: float) -> AsyncIterator[None]:
    """Cancel the block at ``deadline`` (the event loop's clock, i.e. monotonic)."""
    timeout = asyncio.timeout_at(deadline)
    try:
        async with timeout:
            yield
    except TimeoutError:
        if timeout.expired():
            message = f"the request held its rate-budget slot over {max_hold_s} s"
            raise SlotExpired(message) from None
        raise
