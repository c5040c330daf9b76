"""The versioned event envelope published on the ``twoway.events`` exchange.

Every message body is one JSON object: an ``EntityEvent`` (``type`` ``<kind>.<action>``) or a
``SyncResultEvent`` (``type`` ``sync.result``). The AMQP ``message_id`` of a message equals its
``event_id``: consumers dedupe on it. An entity event's ``data`` is validated by its kind's
contract (``shared.entities.KINDS``): generic code names no kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    Discriminator,
    Field,
    JsonValue,
    PrivateAttr,
    Tag,
    TypeAdapter,
    model_validator,
)

from shared.entities import KINDS, EntityData
from shared.entities.base import Frozen
from shared.fields import Flat
from shared.kinds import APP, Action, EntityKind, Origin, Provider

SCHEMA_VERSION: Literal[1] = 1


class _Envelope(Frozen):
    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: UUID
    occurred_at: datetime


class EntityEvent(_Envelope):
    """An entity changed. ``data`` is the snapshot after the change (deletes: the last one)."""

    type: str = Field(pattern=r"^[a-z_]+\.(created|updated|deleted)$")
    entity: EntityKind
    entity_id: str
    version: int = Field(ge=1)
    origin: Origin
    data: dict[str, JsonValue]
    changed: tuple[str, ...] = ()
    """The paths this event changed (a create: every path it sets; a delete: none)."""
    resend: tuple[str, ...] = ()
    """Paths the origin provider must be sent as well: a conflict was resolved against the
    value it holds, or may hold once an earlier write lands (see the README's conflicts)."""
    external_ids: dict[Provider, str] = Field(default_factory=dict)
    """The entity's id at each provider known when the event was written; always the
    origin provider's for a change that came from one."""

    _snapshot: EntityData = PrivateAttr()

    @model_validator(mode="after")
    def _consistent(self) -> EntityEvent:
        if self.type.split(".", 1)[0] != self.entity.value:
            raise ValueError(f"a {self.type} event about a {self.entity.value}")
        if self.origin != APP and self.origin not in self.external_ids:
            raise ValueError(f"a change from {self.origin} must carry its id there")
        self._snapshot = KINDS[self.entity].data.model_validate(self.data)
        return self

    @classmethod
    def of(
        cls, action: Action, snapshot: EntityData, kind: EntityKind, **fields: Any
    ) -> EntityEvent:
        """The event of ``action`` with ``snapshot`` as its data.

        Built without validating again what is valid by construction (the snapshot is its
        kind's model, the rest typed by the caller): on every API write, validating ``data``
        as JSON values and then as the kind's model again cost more than the rest of the
        event. Only the envelope's own rule is checked; a consumer validates what it reads."""
        origin = fields.get("origin", APP)
        if origin != APP and origin not in fields.get("external_ids", {}):
            raise ValueError(f"a change from {origin} must carry its id there")
        event = cls.model_construct(
            type=f"{kind.value}.{action.value}",
            entity=kind,
            entity_id=snapshot.id,
            data=snapshot.model_dump(mode="json"),
            **fields,
        )
        event._snapshot = snapshot
        return event

    @property
    def action(self) -> str:
        return self.type.split(".", 1)[1]

    @property
    def snapshot(self) -> EntityData:
        """``data`` as its kind's model."""
        return self._snapshot

    def paths_for(self, provider: Provider) -> tuple[str, ...]:
        """What ``provider`` must be sent: a change never goes back where it came from,
        except the paths a conflict resolution re-sends."""
        return self.resend if self.origin == provider else self.changed

    def flat(self) -> Flat:
        return self._snapshot.flat()


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
    note: str | None = None
    """What the user should know of a successful outcome (e.g. archived instead of deleted)."""
    written: dict[str, JsonValue] = Field(default_factory=dict)
    """The paths this result wrote at the provider, with the values written."""
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    """When the write was sent and answered: it took effect at the provider in between."""
    created: bool = False
    """The write created the object at the provider."""


def _tag(body: Any) -> str:
    kind = body.get("type") if isinstance(body, dict) else getattr(body, "type", None)
    return "sync" if kind == "sync.result" else "entity"


Event = Annotated[
    Annotated[EntityEvent, Tag("entity")] | Annotated[SyncResultEvent, Tag("sync")],
    Discriminator(_tag),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(body: bytes | str) -> EntityEvent | SyncResultEvent:
    """Parse and validate one message body; raises ``pydantic.ValidationError``."""
    return EVENT_ADAPTER.validate_json(body)


def dump_event(event: EntityEvent | SyncResultEvent) -> bytes:
    return event.model_dump_json().encode()


def event_routing_key(event: EntityEvent | SyncResultEvent) -> str:
    if isinstance(event, SyncResultEvent):
        return f"sync.{event.provider.value}.{event.entity.value}.{event.status}"
    return event.type
