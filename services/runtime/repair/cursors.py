"""Where the continuous jobs are: one row per job (``<provider>:<job>[:<kind>]``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.runtime.repair.models import RepairCursor


async def load(name: str) -> RepairCursor | None:
    return await RepairCursor.get_or_none(name=name)


async def save(
    name: str,
    cursor: str | None,
    cursor_at: datetime | None = None,
    *,
    passes: int | None = None,
    info: dict[str, Any] | None = None,
) -> None:
    fields: dict[str, Any] = {
        "cursor": cursor,
        "cursor_at": cursor_at,
        "updated_at": datetime.now(UTC),
    }
    if passes is not None:
        fields["passes"] = passes
    if info is not None:
        fields["info"] = info
    updated = await RepairCursor.filter(name=name).update(**fields)
    if not updated:
        await RepairCursor.create(name=name, **{"passes": 0, "info": {}, **fields})
