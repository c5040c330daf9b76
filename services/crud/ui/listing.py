"""The entity lists' one query: prefix search, sync-status filter and cursor paging, by id.

Every condition is index-backed: the prefix (``LIKE 'ab%'``) on each search field's own index,
the status through ``external_links``' unique (entity, entity_id, provider) key, the cursor on
the primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections

from services.crud.slices import EntitySlice
from services.crud.sync.status import STATUS_CONDITIONS, SyncStatus
from services.runtime.db import dialect
from shared.kinds import Provider


@dataclass(frozen=True)
class ListFilter:
    prefix: str = ""
    provider: Provider | None = None
    status: SyncStatus | None = None
    cursor: str | None = None


def like_prefix(text: str) -> str:
    """``text%`` with LIKE's wildcards in ``text`` taken literally (escape ``!``)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped + "%"


async def page_ids(kind: EntitySlice, chosen: ListFilter, limit: int) -> list[str]:
    """Up to ``limit`` ids of ``kind``'s entities that pass ``chosen``, in id order."""
    mark = "?" if dialect() == "sqlite" else "%s"
    table = kind.model._meta.db_table
    columns = kind.model._meta.fields_db_projection
    joins, where, params = "", [], list[Any]()
    if chosen.status is not None and chosen.provider is not None:
        joins = (
            f" LEFT JOIN external_links l ON l.entity = {mark} AND l.entity_id = t.id"
            f" AND l.provider = {mark}"
        )
        params += [kind.kind.value, chosen.provider.value]
        where.append(STATUS_CONDITIONS[chosen.status])
    if chosen.prefix and kind.search:
        pattern = like_prefix(chosen.prefix)
        where.append(
            "(" + " OR ".join(f"t.{columns[f]} LIKE {mark} ESCAPE '!'" for f in kind.search) + ")"
        )
        params += [pattern] * len(kind.search)
    if chosen.cursor is not None:
        where.append(f"t.id > {mark}")
        params.append(chosen.cursor)
    sql = f"SELECT t.id AS id FROM {table} t{joins}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY t.id LIMIT {mark}"
    params.append(limit)
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(sql, params)
    return [str(r["id"]) for r in rows]
