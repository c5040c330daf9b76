"""``twoway migrate``: the schema's history of every service, applied in order.

It is the one place that knows every service's models and migration folders; the services
themselves never import each other. The machinery is provider- and service-neutral
(``services.runtime.schema``).
"""

from __future__ import annotations

from collections.abc import Callable

from services.crud.entities import model_modules as crud_models
from services.runtime.db import with_pool_defaults
from services.runtime.providers import plugins
from services.runtime.repair.models import MODELS_MODULE as REPAIR_MODELS
from services.runtime.schema import runner
from services.runtime.schema.history import CORE_SCHEMA, SchemaApp
from services.runtime.settings import ServiceSettings


def schema_apps() -> list[SchemaApp]:
    # Every registered provider's own folder, enabled or not: a schema does not change with
    # TWOWAY_PROVIDERS. Stripe's and Salesforce's hold the history of their former link
    # tables (folded into external_links).
    own = [p.migrations for p in plugins().values() if p.migrations is not None]
    return [SchemaApp(CORE_SCHEMA, (*crud_models(), REPAIR_MODELS)), *map(SchemaApp, own)]


def all_model_modules() -> list[str]:
    return [module for app in schema_apps() for module in app.models]


def _url(settings: ServiceSettings) -> str:
    return with_pool_defaults(settings.database_url.get_secret_value())


async def migrate(
    settings: ServiceSettings, report: Callable[[str], object] = lambda _: None
) -> list[str]:
    """Apply every pending migration (under the database's migration lock); their names."""
    return await runner.apply(_url(settings), schema_apps(), report)


async def pending(settings: ServiceSettings) -> list[str]:
    return await runner.pending(_url(settings), schema_apps())


async def sql(settings: ServiceSettings) -> list[str]:
    return await runner.sql(_url(settings), schema_apps())


async def model_changes() -> list[str]:
    return await runner.model_changes(schema_apps())


async def make(name: str) -> list[str]:
    return await runner.make(schema_apps(), name)
