"""Opening what every repair job runs on: the database, a provider's sources, the app's side."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.crud.entities import model_modules
from services.crud.repair.target import CrudTarget
from services.crud.settings import CrudSettings
from services.runtime.db import close_db, init_db
from services.runtime.providers import plugin
from services.runtime.repair.models import MODELS_MODULE
from services.runtime.repair.source import Sources
from services.runtime.schema.history import CORE_SCHEMA
from services.runtime.settings import ServiceSettings
from shared.kinds import Provider


def repair_models() -> list[str]:
    return [*model_modules(), MODELS_MODULE]


@contextlib.asynccontextmanager
async def database(url: str, own: bool = True) -> AsyncIterator[None]:
    """The app's tables and the jobs' own (their migrations must have run); ``own=False``:
    the caller opened the database already."""
    if not own:
        yield
        return
    await init_db(url, repair_models(), require=(CORE_SCHEMA,))
    try:
        yield
    finally:
        await close_db()


@contextlib.asynccontextmanager
async def provider_side(provider: Provider, settings: ServiceSettings) -> AsyncIterator[Sources]:
    """The provider's sources on its client and the deployment's budget for it."""
    async with plugin(provider).repair(settings) as sources:
        yield sources


def app_side(crud: CrudSettings, provider: Provider) -> CrudTarget:
    return CrudTarget(provider, crud.rules())
