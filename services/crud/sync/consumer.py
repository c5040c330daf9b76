"""The consumer of ``twoway.crud.sync_results``: providers' results into ``record_result``."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.exceptions import IntegrityError

from services.crud.sync.results import record_result
from services.runtime.bus import Bus, Delivery
from services.runtime.decode import decode_event
from services.runtime.errors import Retryable
from services.runtime.worker import Worker
from shared.events import SyncResultEvent
from shared.topology import SYNC_RESULTS_QUEUE


async def handle_result(delivery: Delivery) -> None:
    event = decode_event(delivery.body, SyncResultEvent)
    try:
        await record_result(event)
    except IntegrityError as exc:
        # Another transaction created the same link first; the retry finds it.
        raise Retryable(f"concurrent write: {exc}") from None


def sync_results_worker(bus: Bus, delays_ms: Sequence[int], prefetch: int = 100) -> Worker:
    return Worker(bus, SYNC_RESULTS_QUEUE, handle_result, delays_ms, prefetch=prefetch)
