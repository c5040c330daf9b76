"""Client-side rate limiter: at most ``rate`` requests in any window of ``window_s`` seconds.

A request holds its slot from the moment it is let through until ``window_s`` after its
answer came back. The server saw the request somewhere between those two instants, so no
window of the server's clock can hold more than ``rate`` of them, whatever the jitter or the
load on either side; the price is one round trip per window (under 1 % on loopback).

Against far-away servers that round trip is large (Stripe answers in ~300 ms, which would
cost a quarter of the budget). ``max_transit_s`` then bounds it: a slot leaves the window
``max_transit_s`` after sending if the answer comes later, which is exact as long as every
request reaches the server that soon; a rare excess is answered by a 429, which slows the
worker down (``slow_down``) rather than failing anything.

Requests are also paced, one every ``window_s / rate``: a burst of the whole budget at once
would queue at the server, stretch every round trip and so waste budget (and real Stripe may
refuse bursts).
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
        self,
        rate: int,
        window_s: float = 1.0,
        max_transit_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.window_s = window_s
        self.max_transit_s = max_transit_s
        self._clock = clock
        self._released: list[float] = []  # heap: when the server saw each request
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

    async def _acquire(self) -> float:
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
                    return now
                # Wait for the oldest slot to leave the window, or for an answer (whose slot
                # may leave it sooner).
                expiry = self._released[0] + self.window_s - now if self._released else None
                self._freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), expiry)

    def _release(self, granted: float) -> None:
        self._in_flight -= 1
        seen_by = self._clock()
        if self.max_transit_s is not None:
            seen_by = min(seen_by, granted + self.max_transit_s)
        heapq.heappush(self._released, seen_by)
        self._freed.set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's slot around the request."""
        granted = await self._acquire()
        try:
            yield
        finally:
            self._release(granted)

    def slow_down(self, seconds: float) -> None:
        """Let no request through for ``seconds`` (the server said it is over its limit)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
