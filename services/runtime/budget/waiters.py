"""Requests waiting for a slot, one queue per lane, served live first, each lane in order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from services.runtime.budget.base import LANES, Evicted, Grant, Lane


class Waiters:
    """``wait(lane)`` parks a request; ``grant(make)`` hands a slot to the first in line.

    A waiter cancelled after its slot was handed over gives it back through ``on_unused``
    (no request was sent with it). ``on_arrival(lane)`` hears of every new waiter.
    """

    def __init__(
        self,
        on_unused: Callable[[Grant], None],
        on_arrival: Callable[[Lane], None] | None = None,
    ) -> None:
        self._queues: dict[Lane, deque[asyncio.Future[Grant]]] = {lane: deque() for lane in LANES}
        self._on_unused = on_unused
        self._on_arrival = on_arrival

    def count(self, lane: Lane) -> int:
        queue = self._queues[lane]
        while queue and queue[0].done():
            queue.popleft()
        return sum(1 for waiter in queue if not waiter.done())

    def __bool__(self) -> bool:
        return any(self.count(lane) for lane in LANES)

    async def wait(self, lane: Lane) -> Grant:
        waiter: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        self._queues[lane].append(waiter)
        if self._on_arrival is not None:
            self._on_arrival(lane)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._on_unused(waiter.result())
            raise

    def grant(self, make: Callable[[], Grant]) -> Grant | None:
        """Give a slot made by ``make`` to the first waiter (live lane first); None: nobody."""
        for lane in LANES:
            queue = self._queues[lane]
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    grant = make()
                    waiter.set_result(grant)
                    return grant
        return None

    def evict(self) -> None:
        """Send every waiter back to ask again (the budget changed how it hands out slots)."""
        for queue in self._queues.values():
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_exception(Evicted())
