"""The ids an entity has at the providers, as the CRUD service knows them."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from services.runtime.links.models import ExternalLink
from services.runtime.providers import plugins
from shared.kinds import EntityKind, Provider


async def external_ids(
    conn: BaseDBAsyncClient, entity: EntityKind, entity_id: str
) -> dict[Provider, str]:
    """Provider -> id of the entity's live links (tombstones and unknown ids left out)."""
    rows = (
        await ExternalLink.filter(
            entity=entity.value, entity_id=entity_id, deleted=False, external_id__isnull=False
        )
        .using_db(conn)
        .values_list("provider", "external_id")
    )
    known = plugins()
    return {Provider(str(p)): str(x) for p, x in rows if str(p) in known}
