"""Recording one provider result on the entity's ``ExternalLink`` row.

Results can arrive out of order (a retried old version reports after a newer one), so each is
weighed against what the row already knows:
- ``synced`` / ``skipped`` newer than ``synced_version``: the provider holds at least that
  version (a skip means a newer one was applied already) -> synced, error cleared;
- ``failed`` newer than ``synced_version``: that version is stuck -> failed, with the error;
- anything else is older news: only a missing ``external_id`` is filled in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from services.crud.links.models import ExternalLink
from services.runtime.db import retry_transient
from shared.events import SyncResultEvent


async def record_result(result: SyncResultEvent) -> None:
    async def tx() -> None:
        async with in_transaction() as conn:
            key = {
                "entity": result.entity.value,
                "entity_id": result.entity_id,
                "provider": result.provider.value,
            }
            link = await ExternalLink.filter(**key).using_db(conn).select_for_update().first()
            if link is None:
                link = ExternalLink(**key, status="pending")
            newer = result.version > (link.synced_version or 0)
            if newer and result.status in ("synced", "skipped"):
                link.synced_version = result.version
                link.status = "synced"
                link.last_error = None  # type: ignore[assignment]  # nullable column
            elif newer:
                link.status = "failed"
                link.last_error = result.error  # type: ignore[assignment]
            if result.external_id and not link.external_id:
                link.external_id = result.external_id
            link.updated_at = datetime.now(UTC)
            await link.save(using_db=conn)

    await retry_transient(tx)
