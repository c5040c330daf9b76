"""Inbound commands: a provider's change, normalized, on its way to the service that owns the data.

Published by the webhook gateway on ``twoway.commands`` with routing key
``inbound.<provider>.<entity>.<action>`` and AMQP ``message_id`` = ``<provider>:<event id>``.
The CRUD service applies them; the provider event id is its inbox key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, JsonValue, PrivateAttr, TypeAdapter, model_validator

from shared.entities import KINDS, ProviderState
from shared.entities.base import Frozen
from shared.kinds import EntityKind, Provider

COMMAND_SCHEMA_VERSION: Literal[1] = 1


class _Command(Frozen):
    schema_version: Literal[1] = COMMAND_SCHEMA_VERSION
    provider: Provider
    provider_event_id: str = Field(min_length=1, max_length=255)
    provider_event_type: str = Field(max_length=100)
    external_id: str = Field(min_length=1, max_length=255)
    local_id: str | None = Field(default=None, max_length=64)
    occurred_at: datetime
    """When the provider says the change happened (Stripe: the event's ``created``, seconds)."""
    clock_resolution_s: float = Field(default=1.0, ge=0, le=60)
    """How coarse ``occurred_at`` is: the change happened within this long after it."""

    @property
    def message_id(self) -> str:
        return f"{self.provider.value}:{self.provider_event_id}"


class Upsert(_Command):
    """The entity exists at the provider with ``data`` (created or changed)."""

    type: Literal["inbound.upsert"] = "inbound.upsert"
    entity: EntityKind
    data: dict[str, JsonValue]
    """The provider's view of the synced fields, as the kind's ``ProviderState``."""
    initial: bool = False
    """The provider's first event for this object (Stripe: ``customer.created``).

    ``occurred_at`` has whole seconds only; a tie with a change already applied is then broken
    in favour of that change, since the creation must have come first."""
    changed: tuple[str, ...] | None = None
    """The paths the provider says this change touched (Stripe: ``previous_attributes``);
    None: it does not say, so the shadow tells what changed."""
    previous: dict[str, JsonValue] | None = None
    """The values those paths had just before the change, where the provider says."""
    request_known: bool = False
    """The provider tells which request made the change, so ``echo_of`` is exact."""
    echo_of: UUID | None = None
    """The twoway event whose own write caused this change (from the request's idempotency
    key): an echo, never a foreign change."""

    _state: ProviderState = PrivateAttr()

    @model_validator(mode="after")
    def _valid_state(self) -> Upsert:
        self._state = KINDS[self.entity].state.model_validate(self.data)
        return self

    @property
    def state(self) -> ProviderState:
        """``data`` as its kind's model."""
        return self._state


class Delete(_Command):
    """The entity was deleted at the provider."""

    type: Literal["inbound.delete"] = "inbound.delete"
    entity: EntityKind


InboundCommand = Annotated[Upsert | Delete, Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[InboundCommand] = TypeAdapter(InboundCommand)


def parse_command(body: bytes | str) -> Upsert | Delete:
    """Parse and validate one message body; raises ``pydantic.ValidationError``."""
    return COMMAND_ADAPTER.validate_json(body)


def dump_command(command: Upsert | Delete) -> bytes:
    return command.model_dump_json().encode()


def command_routing_key(command: Upsert | Delete) -> str:
    action = command.type.rsplit(".", 1)[1]
    return f"inbound.{command.provider.value}.{command.entity.value}.{action}"
