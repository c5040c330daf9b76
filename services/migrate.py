"""``twoway migrate``: create the tables of every service that do not exist yet (safe to rerun).

It is the one place that knows every service's models; the services themselves never import
each other.
"""

from __future__ import annotations

import warnings

from tortoise import Tortoise, connections

from services.crud.entities import model_modules as crud_models
from services.runtime.budget.schema import SCHEMA as BUDGET_SCHEMA
from services.runtime.budget.schema import TABLES as BUDGET_TABLES
from services.runtime.db import close_db, create_missing_tables, dialect, init_db
from services.runtime.repair.models import MODELS_MODULE as REPAIR_MODELS
from services.runtime.settings import ServiceSettings
from services.salesforce_sync.models import MODELS_MODULE as SALESFORCE_SYNC_MODELS
from services.stripe_sync.models import MODELS_MODULE as STRIPE_SYNC_MODELS


def all_model_modules() -> list[str]:
    return [*crud_models(), STRIPE_SYNC_MODELS, SALESFORCE_SYNC_MODELS, REPAIR_MODELS]


async def migrate(settings: ServiceSettings) -> list[str]:
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    try:
        await create_missing_tables()
        tables = [m._meta.db_table for app in Tortoise.apps.values() for m in app.values()]
        if dialect() == "mysql":  # the shared rate budgets (SQLite runs one process)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*already exists")
                for statement in BUDGET_SCHEMA:
                    await connections.get("default").execute_script(statement)
            tables += BUDGET_TABLES
        return sorted(tables)
    finally:
        await close_db()
