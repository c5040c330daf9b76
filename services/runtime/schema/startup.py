"""The start-up check: a service refuses to run on a database its code is ahead of.

Every migration file the service's code ships (for the apps it uses) must be recorded as
applied; else it stops at once with one line naming the first missing migration, instead of
failing later with SQL errors. Migrations the database has and the code does not know (a newer
release migrated it) are fine: they are additive until the release after (expand, then
contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections

from services.runtime.schema.history import RECORD_TABLE, expected
from services.runtime.settings import ConfigError


class SchemaBehind(ConfigError):
    pass


async def applied_migrations() -> set[tuple[str, str]]:
    """(app, name) of every migration recorded here (Tortoise must be open)."""
    client: Any = connections.get("default")
    try:
        _, rows = await client.execute_query(f"SELECT app, name FROM {RECORD_TABLE}")
    except Exception as exc:
        if await _record_missing(client):
            return set()
        raise exc
    return {(str(r["app"]), str(r["name"])) for r in rows}


async def _record_missing(client: Any) -> bool:
    if client.capabilities.dialect == "mysql":
        sql = "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        sql += "AND TABLE_NAME = %s"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    _, rows = await client.execute_query(sql, [RECORD_TABLE])
    return not rows


async def require_schema(packages: Sequence[str]) -> None:
    """Raise ``SchemaBehind`` unless every migration of ``packages`` ran here."""
    done = await applied_migrations()
    for app, name in expected(packages):
        if (app, name) not in done:
            raise SchemaBehind(f"the database lacks migration {app}.{name}: run `twoway migrate`")
