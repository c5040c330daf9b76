"""Salesforce's timestamps: milliseconds, UTC, ``2024-05-01T12:00:00.000Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Stamps for changes: strictly increasing, one millisecond apart at least."""

    def __init__(self) -> None:
        self._last_ms = 0

    def stamp(self) -> int:
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
