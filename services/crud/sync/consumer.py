"""The consumer of ``twoway.crud.sync_results``: providers' results into ``record_result``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from tortoise.exceptions import IntegrityError

from services.crud.sync.results import record_result
from services.runtime.bus import Bus, Delivery
from services.runtime.errors import Permanent, Retryable
from services.runtime.worker import Worker
from shared.events import SyncResultEvent, parse_event
from shared.topology import SYNC_RESULTS_QUEUE


async def handle_result(delivery: Delivery) -> None:
    try:
        event = parse_event(delivery.body)
    except ValidationError as exc:
        raise Permanent(f"not a twoway event: {exc.error_count()} errors", "malformed") from None
    if not isinstance(event, SyncResultEvent):
        raise Permanent(f"not a sync result: {event.type}", "unexpected_event")
    try:
        await record_result(event)
    except IntegrityError as exc:
        # Another transaction created the same link first; the retry finds it.
        raise Retryable(f"concurrent write: {exc}") from None


def sync_results_worker(bus: Bus, delays_ms: Sequence[int], prefetch: int = 100) -> Worker:
    return Worker(bus, SYNC_RESULTS_QUEUE, handle_result, delays_ms, prefetch=prefetch)
