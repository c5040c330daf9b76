"""The versioned event envelope published on the ``twoway.events`` exchange.

Every message body is one JSON object of one of the types below, told apart by ``type``.
The AMQP ``message_id`` of a message equals its ``event_id``: consumers dedupe on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, model_validator

from shared.fields import Flat, flatten
from shared.kinds import APP, EntityKind, Origin, Provider

SCHEMA_VERSION: Literal[1] = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerData(_Frozen):
    """A full snapshot of a customer, as the app's API returns it."""

    synced_fields: ClassVar[tuple[str, ...]] = ("name", "email", "phone", "metadata")
    """The fields kept in sync with providers (see ``shared.fields`` for their paths)."""

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
    changed: tuple[str, ...] = ()
    """The paths this event changed (a create: every path it sets; a delete: none)."""
    resend: tuple[str, ...] = ()
    """Paths the origin provider must be sent as well: a conflict was resolved against the
    value it holds, or may hold once an earlier write lands (see the README's conflicts)."""
    external_ids: dict[Provider, str] = Field(default_factory=dict)
    """The entity's id at each provider known when the event was written; always the
    origin provider's for a change that came from one."""

    @model_validator(mode="after")
    def _origin_id_known(self) -> CustomerEvent:
        if self.origin != APP and self.origin not in self.external_ids:
            raise ValueError(f"a change from {self.origin} must carry its id there")
        return self

    @property
    def action(self) -> str:
        return self.type.split(".", 1)[1]

    def paths_for(self, provider: Provider) -> tuple[str, ...]:
        """What ``provider`` must be sent: a change never goes back where it came from,
        except the paths a conflict resolution re-sends."""
        return self.resend if self.origin == provider else self.changed

    def flat(self) -> Flat:
        return flatten(self.data.model_dump(mode="json"), CustomerData.synced_fields)


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
    written: dict[str, JsonValue] = Field(default_factory=dict)
    """The paths this result wrote at the provider, with the values written."""
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    """When the write was sent and answered: it took effect at the provider in between."""
    created: bool = False
    """The write created the object at the provider."""


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
