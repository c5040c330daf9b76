"""Customers in the repair jobs: their synced state, which were never synced, and pushing them."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery

from services.crud import records
from services.crud.customers.models import Customer
from services.crud.customers.slice import SLICE
from services.crud.links.models import ExternalLink
from services.crud.outbox.writer import append
from services.crud.sync.clock import FieldClock
from services.runtime.repair.target import Local
from shared.fields import Flat
from shared.kinds import APP, Action, EntityKind, Provider

KIND = EntityKind.CUSTOMER


async def states(conn: BaseDBAsyncClient, ids: Sequence[str]) -> dict[str, tuple[Flat, FieldClock]]:
    rows = await Customer.filter(id__in=list(ids)).using_db(conn)
    return {c.id: (records.flat(SLICE, c), FieldClock(c.field_clock)) for c in rows}


async def unsynced(provider: Provider, after: str | None, limit: int) -> list[Local]:
    """Customers the provider has no id for: neither a live link nor a tombstone."""
    known = ExternalLink.filter(
        Q(external_id__isnull=False) | Q(deleted=True),
        provider=provider.value,
        entity=KIND.value,
        entity_id__isnull=False,
    ).values("entity_id")
    query = Customer.exclude(id__in=Subquery(known))
    if after is not None:
        query = query.filter(id__gt=after)
    rows = await query.order_by("id").limit(limit).values_list("id", "email")
    return [Local(str(i), {"email": str(e)}) for i, e in rows]


async def push(conn: BaseDBAsyncClient, ids: Sequence[str]) -> int:
    """Re-announce each customer's current version (same version, a new event id, every
    path): the provider worker creates it where it has no id for it, and leaves it alone where
    a create is already on its way (it finds the id then)."""
    pushed = 0
    for customer_id in ids:
        customer = await records.lock(conn, SLICE, customer_id)
        if customer is None:
            continue  # deleted meanwhile
        changed = records.flat(SLICE, customer)
        event = records.event_of(SLICE, customer, Action.UPDATED, APP, changed=changed)
        await append(conn, event)
        pushed += 1
    return pushed
