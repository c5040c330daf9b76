"""Composition root of the salesforce_sync worker: ``async def main(settings)``."""

from __future__ import annotations

import contextlib
import logging

import httpx

from services.runtime.amqp import AmqpBus
from services.runtime.budget import BudgetSpec, LaneBudget, open_budget
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.metrics import serve_metrics
from services.runtime.outbound import WORKER_MODELS
from services.runtime.outbound.adoption import Adoption, announcer
from services.runtime.outbound.handler import OutboundHandler
from services.runtime.outbound.results import Reporter
from services.runtime.schema.history import CORE_SCHEMA
from services.runtime.worker import Worker
from services.salesforce_sync.salesforce import SALESFORCE_RESOURCES
from services.salesforce_sync.salesforce.client import SalesforceClient
from services.salesforce_sync.settings import SalesforceSyncSettings
from shared.kinds import Provider
from shared.topology import SALESFORCE_SYNC_QUEUE

log = logging.getLogger(__name__)

# The schema this worker needs: the core tables (the daily budget's among them) and its own.
SCHEMA = (CORE_SCHEMA, "services.salesforce_sync.migrations")

BUDGET_NAME = "salesforce"
HOLD_MARGIN_S = 1.0


def salesforce_budget(settings: SalesforceSyncSettings) -> LaneBudget:
    """The org's daily allocation as the deployment's budget (no pacing: a quota may be spent
    in bursts); every Salesforce request of every process takes its slot from it."""
    spec = BudgetSpec(
        name=BUDGET_NAME,
        limit=settings.daily_budget,
        window_s=settings.budget_window_s,
        max_hold_s=settings.salesforce_timeout_s + HOLD_MARGIN_S,
        pace=False,
    )
    return open_budget(spec, settings.database_url.get_secret_value())


async def main(
    settings: SalesforceSyncSettings,
    *,
    bus: Bus | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Consume and sync until cancelled. ``own_database=False``: the caller opened it."""
    bus = bus or AmqpBus(
        settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
    )
    budget = salesforce_budget(settings)
    http = httpx.AsyncClient(timeout=settings.salesforce_timeout_s)
    client = SalesforceClient(settings, http, budget)
    resources = {kind: make(client) for kind, make in SALESFORCE_RESOURCES.items()}
    handler = OutboundHandler(
        Provider.SALESFORCE, resources, Reporter(bus), Adoption(Provider.SALESFORCE, announcer(bus))
    )
    worker = Worker(
        bus,
        SALESFORCE_SYNC_QUEUE,
        handler,
        settings.retry_delays_ms,
        prefetch=settings.prefetch,
        on_dead_letter=handler.report_dead_letter,
    )
    if own_database:
        await init_db(
            settings.database_url.get_secret_value(),
            list(WORKER_MODELS),
            settings.db_pool_size,
            require=SCHEMA,
        )
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(budget)
            log.info(
                "salesforce sync running",
                extra={"daily_budget": budget.limit, "prefetch": settings.prefetch},
            )
            if metrics_port is not None:
                await stack.enter_async_context(serve_metrics(metrics_port))
            await worker.run()
    finally:
        await bus.close()
        await http.aclose()
        if own_database:
            await close_db()
