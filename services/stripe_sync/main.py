"""Composition root of the stripe_sync worker: ``async def main(settings)``."""

from __future__ import annotations

from services.runtime.budget import LaneBudget
from services.runtime.bus import Bus
from services.runtime.outbound.process import run_provider_worker
from services.runtime.schema.history import CORE_SCHEMA
from services.stripe_sync.names import STRIPE
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.settings import WORKER_NEEDS, StripeSettings
from services.stripe_sync.stripe import STRIPE_RESOURCES
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.client import build_client

# The schema this worker needs: the core tables (the rate budget's among them) and its own.
SCHEMA = (CORE_SCHEMA, "services.stripe_sync.migrations")


async def main(
    settings: StripeSettings,
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
    own_budget = budget is None
    settings.require(*WORKER_NEEDS, provider="stripe")
    budget = budget or stripe_budget(settings)
    client, http_client = build_client(
        settings.api_key,
        settings.stripe_api_base,
        settings.stripe_timeout_s,
    )
    caller = Caller(budget)
    resources = {kind: make(client, caller) for kind, make in STRIPE_RESOURCES.items()}
    try:
        await run_provider_worker(
            STRIPE,
            resources,
            settings,
            schema=SCHEMA,
            bus=bus,
            own_budget=budget if own_budget else None,
            own_database=own_database,
            metrics_port=metrics_port,
            link_by_match=settings.link_by_email,
            started={"rate_limit": budget.limit, "budget": type(budget).__name__},
        )
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]
