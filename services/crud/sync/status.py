"""The ``sync`` block of an entity's API response, and the ``sync_status`` list filter.

Derived, never stored: ``synced`` when the provider holds the entity's current version,
``failed`` when the newest result for a newer version failed, else ``pending``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise import connections

from services.runtime.db import dialect
from services.runtime.links.models import ExternalLink
from shared.kinds import EntityKind, Provider

SyncStatus = Literal["pending", "synced", "failed"]
SYNC_STATUSES: tuple[SyncStatus, ...] = ("pending", "synced", "failed")


def status_of(link: ExternalLink | None, version: int) -> SyncStatus:
    if link is None:
        return "pending"
    if link.synced_version is not None and link.synced_version >= version:
        return "synced"
    return "failed" if link.status == "failed" else "pending"


def _utc(moment: datetime) -> str:
    """The same form as the entity's own timestamps: UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def block(link: ExternalLink | None, version: int) -> dict[str, Any]:
    return {
        "status": status_of(link, version),
        "external_id": link.external_id if link else None,
        "synced_version": link.synced_version if link else None,
        "last_error": link.last_error if link else None,
        "note": link.note if link else None,
        "updated_at": _utc(link.updated_at) if link and link.updated_at else None,
    }


def unsynced_blocks(providers: Sequence[Provider]) -> dict[str, dict[str, Any]]:
    """The block of an entity no provider has heard of yet (one just created by the API)."""
    return {p.value: block(None, 1) for p in providers}


async def sync_blocks(
    entity: EntityKind, versions: dict[str, int], providers: Sequence[Provider]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{entity_id: {provider: block}}`` for the given entities (id -> current version)."""
    links = await ExternalLink.filter(
        entity=entity.value, entity_id__in=list(versions), provider__in=list(providers)
    )
    by_key = {(link.entity_id, link.provider): link for link in links}
    return {
        entity_id: {p.value: block(by_key.get((entity_id, p.value)), version) for p in providers}
        for entity_id, version in versions.items()
    }


STATUS_CONDITIONS: dict[SyncStatus, str] = {
    # SQL over ``t`` (the entity table) LEFT JOIN ``l`` (its link at one provider).
    "synced": "l.synced_version IS NOT NULL AND l.synced_version >= t.version",
    "failed": "l.status = 'failed' AND (l.synced_version IS NULL OR l.synced_version < t.version)",
    "pending": (
        "(l.id IS NULL OR ((l.synced_version IS NULL OR l.synced_version < t.version) "
        "AND l.status <> 'failed'))"
    ),
}


async def ids_with_status(
    table: str,
    entity: EntityKind,
    provider: Provider,
    status: SyncStatus,
    after: str | None,
    limit: int,
) -> list[str]:
    """Ids of ``table``'s rows whose sync status at ``provider`` is ``status``, in id order."""
    mark = "?" if dialect() == "sqlite" else "%s"
    params: list[Any] = [entity.value, provider.value]
    where = STATUS_CONDITIONS[status]
    if after is not None:
        where += f" AND t.id > {mark}"
        params.append(after)
    params.append(limit)
    rows = await connections.get("default").execute_query_dict(
        f"SELECT t.id AS id FROM {table} t LEFT JOIN external_links l "
        f"ON l.entity = {mark} AND l.entity_id = t.id AND l.provider = {mark} "
        f"WHERE {where} ORDER BY t.id LIMIT {mark}",
        params,
    )
    return [str(r["id"]) for r in rows]
