"""Salesforce's timestamps: milliseconds, UTC, ``2024-05-01T12:00:00.000Z``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Stamps for changes: strictly increasing, one millisecond apart at least; ``ahead_s``
    says how far the org's clock runs ahead of this machine's."""

    def __init__(self, ahead_s: Callable[[], float] = lambda: 0.0) -> None:
        self._ahead_s = ahead_s
        self._last_ms = 0

    def stamp(self) -> int:
        now_ms = int((time.time() + self._ahead_s()) * 1000)
        self._last_ms = max(now_ms, self._last_ms + 1)
        return self._last_ms


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
