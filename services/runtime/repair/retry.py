"""Provider reads in the repair jobs: a retryable failure (a 429 included) waits and tries the
same read again; it never skips a page, so a run is never recorded as complete over a hole."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.runtime.errors import Retryable

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0


class GaveUp(Exception):
    """A read kept failing; the job stops where it was (and can go on from there later)."""


async def patiently(
    read: Callable[[], Awaitable[T]],
    what: str,
    attempts: int = 10,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    delay = FIRST_DELAY_S
    for attempt in range(1, attempts + 1):
        try:
            return await read()
        except Retryable as exc:
            if attempt == attempts:
                raise GaveUp(f"{what}: {exc}") from exc
            wait = max(delay, exc.retry_after or 0.0)
            context = {"what": what, "wait_s": wait, "error": str(exc)}
            log.warning("provider read failed, waiting", extra=context)
            await sleep(wait)
            delay = min(delay * 2, MAX_DELAY_S)
    raise AssertionError("unreachable")
