"""Appending an event to the outbox inside the caller's transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.outbox.models import OutboxEvent
from services.runtime.cancel import nap
from shared.events import EntityEvent, SyncResultEvent, dump_event, event_routing_key


class OutboxSignal:
    """Wakes the relay of this process right after a commit, instead of at its next poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        await nap(self._event, timeout)
        self._event.clear()


INSERT_SQL = (
    "INSERT INTO outbox (event_id, routing_key, entity, entity_id, version, payload, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def insert_statement(event: EntityEvent | SyncResultEvent) -> tuple[str, list[Any]]:
    """The outbox row of ``event`` as one SQL statement, for ``run_transaction_mysql``."""
    return INSERT_SQL, [
        str(event.event_id),
        event_routing_key(event),
        event.entity.value,
        event.entity_id,
        event.version,
        dump_event(event).decode(),
        datetime.now(UTC).replace(tzinfo=None),
    ]


async def append(conn: BaseDBAsyncClient, event: EntityEvent | SyncResultEvent) -> None:
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
