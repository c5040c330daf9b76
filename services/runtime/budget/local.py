"""The budget of one process: exact, in memory (SQLite / ``twoway dev``, and the fallback share).

A request holds its slot from the moment it is let through until ``window_s`` after its answer
(or ``max_transit_s`` after sending, when set and sooner). Waiters are served by one dispatcher
task, live lane first, and only while the window has room, the pacing allows and no pause is on.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import time

from services.runtime.budget.base import BudgetSpec, Clock, Grant, Lane, LaneBudget, seen_by
from services.runtime.budget.pacing import Pacer
from services.runtime.budget.waiters import Waiters
from services.runtime.cancel import nap
from services.runtime.metrics import BUDGET_BUSY


class LocalBudget(LaneBudget):
    def __init__(
        self, spec: BudgetSpec, clock: Clock = time.monotonic, *, reports_busy: bool = True
    ) -> None:
        """``reports_busy=False``: a shared budget's own ledger (the gauge is the deployment's)."""
        super().__init__(spec, clock)
        self._reports_busy = reports_busy
        self._limit = spec.limit
        self._released: list[float] = []  # heap: when the server saw each answered request
        self._in_flight = 0
        self._paused_until = float("-inf")
        self._pacer = Pacer(spec.window_s / spec.limit) if spec.pace else None
        self._waiters = Waiters(self.forget)
        self._changed = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        self._limit = max(1, limit)
        if self._pacer is not None:
            self._pacer.interval = self.spec.window_s / self._limit
        self._changed.set()

    def busy(self, now: float) -> int:
        """Requests in flight or answered less than a window ago."""
        while self._released and self._released[0] <= now - self.spec.window_s:
            heapq.heappop(self._released)
        return self._in_flight + len(self._released)

    def clear_by(self, now: float) -> float:
        """Seconds until every request this process sent has left the window (at most)."""
        self.busy(now)
        if self._in_flight:
            return self.spec.max_hold_s + self.spec.window_s
        if not self._released:
            return 0.0
        return max(0.0, max(self._released) + self.spec.window_s - now)

    def _delay(self, now: float) -> float | None:
        """0 when a request may go now; else seconds until it may (None: until an answer)."""
        delay = max(0.0, self._paused_until - now)
        if self._pacer is not None and self._pacer.allowance(now) == 0:
            delay = max(delay, self._pacer.next_at - now)
        if self.busy(now) >= self._limit:
            if not self._released:
                return None
            delay = max(delay, self._released[0] + self.spec.window_s - now)
        return delay

    def _take(self, now: float) -> Grant:
        self._in_flight += 1
        if self._pacer is not None:
            self._pacer.take(now)
        self._report(now)
        return Grant(granted_at=now)

    def _report(self, now: float) -> None:
        busy = self.busy(now)  # also forgets what left the window
        if self._reports_busy:
            BUDGET_BUSY.labels(self.spec.name).set(busy)

    async def acquire(self, lane: Lane) -> Grant:
        now = self.clock()
        if not self._waiters and self._delay(now) == 0:
            return self._take(now)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="budget-dispatch")
        return await self._waiters.wait(lane)

    async def _dispatch(self) -> None:
        while self._waiters:
            now = self.clock()
            delay = self._delay(now)
            if delay == 0:
                self._waiters.grant(functools.partial(self._take, now))
                continue
            self._changed.clear()
            await nap(self._changed, delay)

    def record(self, grant: Grant) -> None:
        """Count a request let through elsewhere (the shared budget's slots)."""
        self._in_flight += 1

    def release(self, grant: Grant) -> None:
        self._in_flight -= 1
        now = self.clock()
        heapq.heappush(self._released, seen_by(self.spec, grant, now))
        self._report(now)
        self._changed.set()

    def forget(self, grant: Grant) -> None:
        """A slot handed to a waiter that was cancelled before using it: nothing was sent."""
        self._in_flight -= 1
        self._changed.set()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        self._changed.set()

    def evict(self) -> None:
        """Send every waiter back to the caller, to be served elsewhere."""
        self._waiters.evict()

    async def close(self) -> None:
        self._waiters.evict()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
