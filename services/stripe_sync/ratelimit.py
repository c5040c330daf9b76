"""Client-side rate limiter: at most ``rate`` requests in any window of ``window_s`` seconds.

A request holds its slot from the moment it is let through until ``window_s`` after its
response arrived. The server saw the request somewhere between those two instants, so no
window of the server's clock can hold more than ``rate`` of them, whatever the network's
jitter; the price is one round trip per window (a few per cent of the budget on loopback).
With a backlog, slots are handed on as soon as they free up, so the whole budget is used.

``slow_down(seconds)`` (after a 429) holds every new request back for that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import AsyncIterator, Callable


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
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self._busy(now) < self.rate:
                    self._in_flight += 1
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
