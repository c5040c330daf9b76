"""Recording one provider result on the entity's ``ExternalLink`` row.

Results can arrive out of order (a retried old version reports after a newer one), so each is
weighed against what the row already knows:
- ``synced`` / ``skipped`` newer than ``synced_version``: the provider holds at least that
  version (a skip means a newer one was applied already) -> synced, error cleared;
- ``failed`` newer than ``synced_version``: that version is stuck -> failed, with the error;
- anything else is older news: only a missing ``external_id`` is filled in.

The paths a result wrote go into the shadow, path by path: a path's newer confirmation is never
replaced by an older one (``Shadow.written``).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from services.runtime.db import retry_transient
from services.runtime.links.models import ExternalLink
from services.runtime.links.shadow import Shadow
from services.runtime.transactions import transaction
from shared.events import SyncResultEvent


def _epoch(moment: datetime | None, default: datetime) -> float:
    return (moment or default).timestamp()


async def record_result(result: SyncResultEvent) -> None:
    key: dict[str, Any] = {
        "entity": result.entity.value,
        "entity_id": result.entity_id,
        "provider": result.provider.value,
    }

    async def tx() -> bool:
        """Record it on the locked row; False (nothing written) when there is no row yet."""
        async with transaction() as conn:
            link = await ExternalLink.filter(**key).using_db(conn).select_for_update().first()
            if link is None:
                return False
            newer = result.version > (link.synced_version or 0)
            if newer and result.status in ("synced", "skipped"):
                link.synced_version = result.version
                link.status = "synced"
                link.last_error = None  # type: ignore[assignment]  # nullable column
                link.note = result.note  # type: ignore[assignment]
            elif newer:
                link.status = "failed"
                link.last_error = result.error  # type: ignore[assignment]
            if result.external_id and not link.external_id:
                link.external_id = result.external_id
            if result.written:
                shadow = Shadow.load(link.shadow)
                lo = _epoch(result.sent_at, result.occurred_at)
                hi = _epoch(result.answered_at, result.occurred_at)
                for path, value in result.written.items():
                    shadow.written(path, value, result.version, lo, hi, result.created)
                link.shadow = shadow.dump()
            link.updated_at = datetime.now(UTC)
            await link.save(using_db=conn)
            return True

    async def make_row() -> None:
        with contextlib.suppress(IntegrityError):  # made already (a redelivery, a race)
            await ExternalLink.create(
                **key, status="pending", shadow={}, updated_at=datetime.now(UTC)
            )

    # The provider's worker makes the row before it writes; should it still be missing, it is
    # made here apart (an insert that a concurrent one may already have made) and only then
    # locked: inserting it inside the transaction, after a locking read of the missing row,
    # deadlocks against neighbouring entities doing the same (both reads hold the gap that
    # both inserts need).
    if await retry_transient(tx):
        return
    await retry_transient(make_row)
    if not await retry_transient(tx):
        raise AssertionError(f"the link row of {key} is missing after it was made")
