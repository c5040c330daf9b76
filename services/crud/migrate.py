"""``twoway migrate``: create the tables that do not exist yet (safe to run again)."""

from __future__ import annotations

from tortoise import Tortoise

from services.crud.entities import model_modules
from services.runtime.db import close_db, init_db
from services.runtime.settings import ServiceSettings


async def migrate(settings: ServiceSettings) -> list[str]:
    await init_db(settings.database_url.get_secret_value(), model_modules())
    try:
        await Tortoise.generate_schemas(safe=True)
        return sorted(m._meta.db_table for app in Tortoise.apps.values() for m in app.values())
    finally:
        await close_db()
