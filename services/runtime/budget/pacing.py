"""Pacing: one request every ``interval``, so the budget is not spent in one burst.

A burst of the whole budget at once would queue at the server, stretch every round trip and so
waste budget (and a real provider may refuse bursts). A late wake-up may make up for up to
``CATCH_UP`` intervals with requests closer together, so that timer slack does not add up.
"""

from __future__ import annotations

CATCH_UP = 3


class Pacer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.next_at = float("-inf")

    def allowance(self, now: float) -> int:
        """How many requests may go at ``now``."""
        base = max(self.next_at, now - CATCH_UP * self.interval)
        if now < base:
            return 0
        return int((now - base) // self.interval) + 1

    def take(self, now: float) -> None:
        self.next_at = max(self.next_at, now - CATCH_UP * self.interval) + self.interval
