"""The versioned event envelope published on the ``twoway.events`` exchange.

Every message body is one JSON object of one of the types below, told apart by ``type``.
The AMQP ``message_id`` of a message equals its ``event_id``: consumers dedupe on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.kinds import EntityKind, Origin, Provider

SCHEMA_VERSION: Literal[1] = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerData(_Frozen):
    """A full snapshot of a customer, as the app's API returns it."""

    id: str
    name: str
    email: str
    phone: str | None
    metadata: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


class _Envelope(_Frozen):
    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: UUID
    occurred_at: datetime


class CustomerEvent(_Envelope):
    """A customer changed. ``data`` is the snapshot after the change (deletes: the last one)."""

    type: Literal["customer.created", "customer.updated", "customer.deleted"]
    entity: Literal[EntityKind.CUSTOMER] = EntityKind.CUSTOMER
    entity_id: str
    version: int = Field(ge=1)
    origin: Origin
    data: CustomerData

    @property
    def action(self) -> str:
        return self.type.split(".", 1)[1]


class SyncResultEvent(_Envelope):
    """A provider worker's report on one entity version (see the outbound sync)."""

    type: Literal["sync.result"]
    provider: Provider
    entity: EntityKind
    entity_id: str
    version: int = Field(ge=1)
    status: Literal["synced", "failed", "skipped"]
    external_id: str | None = None
    error: str | None = None


Event = Annotated[CustomerEvent | SyncResultEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(body: bytes | str) -> Event:
    """Parse and validate one message body; raises ``pydantic.ValidationError``."""
    return EVENT_ADAPTER.validate_json(body)


def dump_event(event: CustomerEvent | SyncResultEvent) -> bytes:
    return event.model_dump_json().encode()


def event_routing_key(event: CustomerEvent | SyncResultEvent) -> str:
    if isinstance(event, SyncResultEvent):
        return f"sync.{event.provider.value}.{event.entity.value}.{event.status}"
    return event.type


def snapshot_dict(event: CustomerEvent) -> dict[str, Any]:
    return event.data.model_dump(mode="json")
