"""Opening what every repair job runs on: the database, Stripe's client and budget."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.crud.entities import model_modules
from services.crud.repair.target import CrudTarget
from services.crud.settings import CrudSettings
from services.runtime.db import close_db, init_db
from services.runtime.repair.models import MODELS_MODULE
from services.runtime.schema.history import CORE_SCHEMA
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.repair.events import StripeEvents
from services.stripe_sync.repair.objects import StripeObjects
from services.stripe_sync.settings import StripeSyncSettings
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.client import build_client
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


@dataclass(frozen=True)
class StripeSide:
    objects: StripeObjects
    events: StripeEvents


@contextlib.asynccontextmanager
async def stripe_side(settings: StripeSyncSettings) -> AsyncIterator[StripeSide]:
    """Stripe's client on the deployment's rate budget (the jobs use its bulk lane)."""
    client, http_client = build_client(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        settings.stripe_timeout_s,
    )
    try:
        async with stripe_budget(settings) as budget:
            call = Caller(budget)
            yield StripeSide(StripeObjects(client, call), StripeEvents(client, call))
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]


def app_side(crud: CrudSettings) -> CrudTarget:
    return CrudTarget(Provider.STRIPE, crud.rules())
