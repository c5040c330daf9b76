"""What the budget tests check: how many requests a server could have seen in one window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.runtime.budget import Lane, LaneBudget


@dataclass(frozen=True)
class Span:
    """One request as its sender saw it: the server saw it somewhere in [start, end]."""

    start: float
    end: float
    lane: Lane
    sender: int = 0


def most_in_any_window(spans: Sequence[Span], window_s: float) -> int:
    """The most requests one window of the server's clock can have met, whenever in its span
    the server saw each. A window from ``t`` meets those with ``start < t + window_s`` and
    ``end >= t``; the count only drops when ``t`` passes an end, so the worst ``t`` is an end.
    """
    ends = {s.end for s in spans}
    return max(
        (sum(1 for s in spans if s.start < t + window_s and s.end >= t) for t in ends), default=0
    )


@dataclass
class Recorder:
    """Sends requests through budgets and keeps their spans, in the order they started."""

    spans: list[Span] = field(default_factory=list)
    hold_s: float = 0.002

    async def request(self, budget: LaneBudget, lane: Lane = "live", sender: int = 0) -> Span:
        async with budget.slot(lane):
            start = time.monotonic()
            await asyncio.sleep(self.hold_s)  # scenario: the request's time at the server
            span = Span(start, time.monotonic(), lane, sender)
        self.spans.append(span)
        return span

    def started(self, lane: Lane | None = None) -> list[Span]:
        return sorted(
            (s for s in self.spans if lane is None or s.lane == lane), key=lambda s: s.start
        )
