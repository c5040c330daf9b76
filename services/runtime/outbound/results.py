"""Reporting each outcome back as a ``sync.result`` event, confirmed before the ack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import JsonValue

from services.runtime.bus import Bus, OutgoingMessage
from services.runtime.errors import Retryable
from shared.events import EntityEvent, SyncResultEvent, dump_event, event_routing_key
from shared.kinds import Provider
from shared.topology import EVENTS_EXCHANGE

Status = Literal["synced", "failed", "skipped"]


def result_of(
    provider: Provider,
    event: EntityEvent,
    status: Status,
    external_id: str | None,
    error: str | None = None,
    *,
    written: dict[str, JsonValue] | None = None,
    sent_at: datetime | None = None,
    answered_at: datetime | None = None,
    created: bool = False,
    note: str | None = None,
) -> SyncResultEvent:
    return SyncResultEvent(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        type="sync.result",
        provider=provider,
        entity=event.entity,
        entity_id=event.entity_id,
        version=event.version,
        status=status,
        external_id=external_id,
        error=error,
        written=written or {},
        sent_at=sent_at,
        answered_at=answered_at,
        created=created,
        note=note,
    )


class Reporter:
    def __init__(self, bus: Bus, timeout_s: float = 10.0) -> None:
        self.bus = bus
        self.timeout_s = timeout_s

    async def __call__(self, result: SyncResultEvent) -> None:
        message = OutgoingMessage(
            routing_key=event_routing_key(result),
            body=dump_event(result),
            message_id=str(result.event_id),
        )
        (outcome,) = await self.bus.publish(EVENTS_EXCHANGE, [message], timeout=self.timeout_s)
        if outcome is not None:
            # Not acked: the redelivery finds the version applied and reports again.
            raise Retryable(f"could not report the outcome: {outcome}")
