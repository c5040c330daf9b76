"""Composition root of the acme_sync worker: ``async def main(settings)``."""

from __future__ import annotations

import httpx

from services.runtime.budget import BudgetSpec, LaneBudget, open_budget
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.outbound import WORKER_MODELS
from services.runtime.outbound.process import run_provider_worker
from services.runtime.schema.history import CORE_SCHEMA
from shared.kinds import EntityKind
from tests.providers.acme.accounts import bind
from tests.providers.acme.client import AcmeClient
from tests.providers.acme.contacts import AcmeContacts
from tests.providers.acme.names import ACME
from tests.providers.acme.settings import WORKER_NEEDS, AcmeSettings

# The schema this worker needs: the core tables (the rate budget's among them) and its own.
SCHEMA = (CORE_SCHEMA, "tests.providers.acme.migrations")
HOLD_MARGIN_S = 1.0


def acme_budget(settings: AcmeSettings) -> LaneBudget:
    """``TWOWAY_ACME_RATE_LIMIT`` requests a second, for every process of the deployment."""
    spec = BudgetSpec(
        name="acme",
        limit=settings.acme_rate_limit,
        window_s=1.0,
        max_hold_s=settings.acme_timeout_s + HOLD_MARGIN_S,
    )
    return open_budget(spec, settings.database_url.get_secret_value())


async def main(
    settings: AcmeSettings,
    *,
    bus: Bus | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Consume and sync until cancelled. ``own_database=False``: the caller opened it."""
    settings.require(*WORKER_NEEDS, provider="acme")
    budget = acme_budget(settings)
    # The database and the budget are opened here rather than by the runtime: the account is
    # checked before the first message is taken.
    if own_database:
        await init_db(
            settings.database_url.get_secret_value(),
            list(WORKER_MODELS),
            settings.db_pool_size,
            require=SCHEMA,
        )
    try:
        async with httpx.AsyncClient(timeout=settings.acme_timeout_s) as http, budget:
            client = AcmeClient(settings, http, budget)
            account = await bind(client)
            await run_provider_worker(
                ACME,
                {EntityKind.CUSTOMER: AcmeContacts(client)},
                settings,
                schema=SCHEMA,
                bus=bus,
                own_database=False,
                metrics_port=metrics_port,
                started={"account": account, "rate_limit": budget.limit},
            )
    finally:
        if own_database:
            await close_db()
