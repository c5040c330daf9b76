"""Building inbound commands and reading what they did, for the inbound tests."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from services.crud.customers.models import Customer
from services.runtime.links.models import ExternalLink
from services.stripe_sync.names import STRIPE
from shared.commands import Delete, Upsert
from shared.kinds import EntityKind

# Provider times lie ahead of the test's own writes through the app, so that a provider change
# counts as the later one (the default conflict rule) unless a test says otherwise.
T0 = int(time.time()) + 1000


def at(second: int) -> datetime:
    return datetime.fromtimestamp(T0 + second, UTC)


def upsert(
    second: int = 0,
    external_id: str = "cus_1",
    event_id: str | None = None,
    local_id: str | None = None,
    initial: bool = False,
    **fields: Any,
) -> Upsert:
    data = {"name": "Ada", "email": "ada@example.com", "phone": None, "metadata": {}, **fields}
    return Upsert(
        provider=STRIPE,
        provider_event_id=event_id or f"evt_{uuid.uuid4().hex}",
        provider_event_type="customer.created" if initial else "customer.updated",
        external_id=external_id,
        local_id=local_id,
        occurred_at=at(second),
        entity=EntityKind.CUSTOMER,
        data=data,
        initial=initial,
    )


def delete(second: int = 0, external_id: str = "cus_1", event_id: str | None = None) -> Delete:
    return Delete(
        entity=EntityKind.CUSTOMER,
        provider=STRIPE,
        provider_event_id=event_id or f"evt_{uuid.uuid4().hex}",
        provider_event_type="customer.deleted",
        external_id=external_id,
        occurred_at=at(second),
    )


async def outbox() -> list[dict[str, Any]]:
    rows = await connections.get("default").execute_query_dict(
        "SELECT routing_key, entity_id, version, payload FROM outbox ORDER BY id"
    )
    return list(rows)


async def linked(external_id: str = "cus_1") -> Customer | None:
    link = await ExternalLink.get_or_none(provider="stripe", external_id=external_id)
    if link is None or link.entity_id is None:
        return None
    return await Customer.get_or_none(id=link.entity_id)


async def inbox_outcomes() -> list[str]:
    rows = await connections.get("default").execute_query_dict(
        "SELECT outcome FROM inbox ORDER BY id"
    )
    return [r["outcome"] for r in rows]
