"""Any kind's entities in the repair jobs: their synced state, which were never synced at a
provider, and pushing those through the outbox (as the API would)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery

from services.crud import records
from services.crud.entities import ENTITIES
from services.crud.outbox.writer import append
from services.crud.sync.clock import FieldClock
from services.runtime.links.models import ExternalLink
from services.runtime.repair.target import Local
from shared.fields import Flat
from shared.kinds import APP, Action, EntityKind, Provider


async def states(
    conn: BaseDBAsyncClient, kind: EntityKind, ids: Sequence[str]
) -> dict[str, tuple[Flat, FieldClock]]:
    entity = ENTITIES[kind]
    rows = await entity.model.filter(id__in=list(ids)).using_db(conn)
    return {r.id: (records.flat(entity, r), FieldClock(r.field_clock)) for r in rows}


async def unsynced(
    kind: EntityKind, provider: Provider, after: str | None, limit: int
) -> list[Local]:
    """Entities the provider has no id for: neither a live link nor a tombstone."""
    entity = ENTITIES[kind]
    known = ExternalLink.filter(
        Q(external_id__isnull=False) | Q(deleted=True),
        provider=provider.value,
        entity=kind.value,
        entity_id__isnull=False,
    ).values("entity_id")
    query = entity.model.exclude(id__in=Subquery(known))
    if after is not None:
        query = query.filter(id__gt=after)
    match = entity.contract.state.match_fields
    rows = await query.order_by("id").limit(limit)
    return [
        Local(r.id, {f: str(getattr(r, f)) for f in match if getattr(r, f, None)}) for r in rows
    ]


async def push(conn: BaseDBAsyncClient, kind: EntityKind, ids: Sequence[str]) -> int:
    """Re-announce each entity's current version (same version, a new event id, every path):
    the provider worker creates it where it has no id for it, and leaves it alone where a
    create is already on its way (it finds the id then)."""
    entity = ENTITIES[kind]
    pushed = 0
    for entity_id in ids:
        row = await records.lock(conn, entity, entity_id)
        if row is None:
            continue  # deleted meanwhile
        changed = records.flat(entity, row)
        await append(conn, records.event_of(entity, row, Action.UPDATED, APP, changed=changed))
        pushed += 1
    return pushed
