"""Appending an event to the outbox inside the caller's transaction."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.outbox.models import OutboxEvent
from shared.events import CustomerEvent, SyncResultEvent, dump_event, event_routing_key


class OutboxSignal:
    """Wakes the relay of this process right after a commit, instead of at its next poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


async def append(conn: BaseDBAsyncClient, event: CustomerEvent | SyncResultEvent) -> None:
    """Write ``event`` as an outbox row on ``conn``, which must be inside a transaction."""
    await OutboxEvent.create(
        using_db=conn,
        event_id=str(event.event_id),
        routing_key=event_routing_key(event),
        entity=event.entity.value,
        entity_id=event.entity_id,
        version=event.version,
        payload=dump_event(event).decode(),
        created_at=datetime.now(UTC),
    )
