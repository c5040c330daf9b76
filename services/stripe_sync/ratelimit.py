"""Client-side rate limiter: at most ``rate`` requests in any window of ``window_s`` seconds.

A request holds its slot from the moment it is let through until ``window_s`` after its
response arrived. The server saw the request somewhere between those two instants, so no
window of the server's clock can hold more than ``rate`` of them, whatever the network's
jitter; the price is one round trip per window (a few per cent of the budget on loopback).
Requests are also paced, one every ``window_s / rate`` at most: a burst of the whole budget
at once would queue at the server, stretch every round trip and so waste budget (and real
Stripe may refuse bursts). With a backlog the worker thus sends at the budget, less one round
trip per window.

``slow_down(seconds)`` (after a 429) holds every new request back for that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import AsyncIterator, Callable

CATCH_UP = 3
"""How many intervals of pacing a late start may make up for with requests closer together."""


class RateLimiter:
    def __init__(
        self, rate: int, window_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.window_s = window_s
        self._clock = clock
        self._released: list[float] = []  # heap of response times still inside a window
        self._in_flight = 0
        self._paused_until = 0.0
        self._next_at = 0.0
        self._interval = window_s / rate
        self._gate = asyncio.Lock()  # waiters are let through first come, first served
        self._freed = asyncio.Event()

    def _busy(self, now: float) -> int:
        while self._released and self._released[0] <= now - self.window_s:
            heapq.heappop(self._released)
        return self._in_flight + len(self._released)

    async def _acquire(self) -> None:
        async with self._gate:
            while True:
                now = self._clock()
                not_before = max(self._paused_until, self._next_at)
                if now < not_before:
                    await asyncio.sleep(not_before - now)
                    continue
                if self._busy(now) < self.rate:
                    self._in_flight += 1
                    # Keep to the cadence even when a wake-up came late, so that timer slack
                    # does not add up; the window check above still bounds every second.
                    self._next_at = max(self._next_at, now - CATCH_UP * self._interval)
                    self._next_at += self._interval
                    return
                if self._released:
                    await asyncio.sleep(self._released[0] + self.window_s - now)
                else:  # every slot is an unanswered request: wait for one to come back
                    self._freed.clear()
                    await self._freed.wait()

    def _release(self) -> None:
        self._in_flight -= 1
        heapq.heappush(self._released, self._clock())
        self._freed.set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's slot around the request."""
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    def slow_down(self, seconds: float) -> None:
        """Let no request through for ``seconds`` (the server said it is over its limit)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
