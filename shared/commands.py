"""Inbound commands: a provider's change, normalized, on its way to the service that owns the data.

Published by the webhook gateway on ``twoway.commands`` with routing key
``inbound.<provider>.<entity>.<action>`` and AMQP ``message_id`` = ``<provider>:<event id>``.
The CRUD service applies them; the provider event id is its inbox key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from shared.fields import Flat, flatten
from shared.kinds import EntityKind, Provider

COMMAND_SCHEMA_VERSION: Literal[1] = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerSnapshot(_Frozen):
    """The provider's view of a customer's synced fields (None: the provider has no value)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    synced_fields: ClassVar[tuple[str, ...]] = ("name", "email", "phone", "metadata")

    def flat(self) -> Flat:
        return flatten(self.model_dump(), self.synced_fields)


class _Command(_Frozen):
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


class CustomerUpsert(_Command):
    """The customer exists at the provider with ``data`` (created or changed)."""

    type: Literal["inbound.customer.upsert"] = "inbound.customer.upsert"
    entity: Literal[EntityKind.CUSTOMER] = EntityKind.CUSTOMER
    data: CustomerSnapshot
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


class CustomerDelete(_Command):
    """The customer was deleted at the provider."""

    type: Literal["inbound.customer.delete"] = "inbound.customer.delete"
    entity: Literal[EntityKind.CUSTOMER] = EntityKind.CUSTOMER


InboundCommand = Annotated[CustomerUpsert | CustomerDelete, Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[InboundCommand] = TypeAdapter(InboundCommand)


def parse_command(body: bytes | str) -> CustomerUpsert | CustomerDelete:
    """Parse and validate one message body; raises ``pydantic.ValidationError``."""
    return COMMAND_ADAPTER.validate_json(body)


def dump_command(command: CustomerUpsert | CustomerDelete) -> bytes:
    return command.model_dump_json().encode()


def command_routing_key(command: CustomerUpsert | CustomerDelete) -> str:
    action = command.type.rsplit(".", 1)[1]
    return f"inbound.{command.provider.value}.{command.entity.value}.{action}"
