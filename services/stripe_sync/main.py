"""Composition root of the stripe_sync worker: ``async def main(settings)``."""

from __future__ import annotations

import contextlib
import logging

from services.runtime.amqp import AmqpBus
from services.runtime.budget import LaneBudget
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.metrics import serve_metrics
from services.runtime.outbound import WORKER_MODELS
from services.runtime.outbound.adoption import Adoption, announcer
from services.runtime.outbound.handler import OutboundHandler
from services.runtime.outbound.results import Reporter
from services.runtime.schema.history import CORE_SCHEMA
from services.runtime.worker import Worker
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.settings import StripeSyncSettings
from services.stripe_sync.stripe import STRIPE_RESOURCES
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.client import build_client
from shared.kinds import Provider
from shared.topology import STRIPE_SYNC_QUEUE

log = logging.getLogger(__name__)

# The schema this worker needs: the core tables (the rate budget's among them) and its own.
SCHEMA = (CORE_SCHEMA, "services.stripe_sync.migrations")


async def main(
    settings: StripeSyncSettings,
    *,
    bus: Bus | None = None,
    budget: LaneBudget | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Consume and sync until cancelled. ``own_database=False``: the caller opened it.

    ``metrics_port`` (0 picks a free one): serve ``/metrics`` there while running; None: the
    caller exposes the process's metrics, or nobody does. ``budget``: Stripe's rate budget,
    started and closed by the caller; None: the deployment's (see ``ratelimit``), run here.
    """
    bus = bus or AmqpBus(
        settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
    )
    own_budget = budget is None
    budget = budget or stripe_budget(settings)
    client, http_client = build_client(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        settings.stripe_timeout_s,
    )
    caller = Caller(budget)
    resources = {kind: make(client, caller) for kind, make in STRIPE_RESOURCES.items()}
    adoption = Adoption(Provider.STRIPE, announcer(bus), link_by_match=settings.link_by_email)
    handler = OutboundHandler(Provider.STRIPE, resources, Reporter(bus), adoption)
    worker = Worker(
        bus,
        STRIPE_SYNC_QUEUE,
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
            if own_budget:
                await stack.enter_async_context(budget)
            log.info(
                "stripe sync running",
                extra={
                    "rate_limit": budget.limit,
                    "budget": type(budget).__name__,
                    "prefetch": settings.prefetch,
                },
            )
            if metrics_port is not None:
                await stack.enter_async_context(serve_metrics(metrics_port))
            await worker.run()
    finally:
        await bus.close()
        await http_client.close_async()  # type: ignore[no-untyped-call]
        if own_database:
            await close_db()
