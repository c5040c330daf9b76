"""Composition root of the salesforce_sync worker: ``async def main(settings)``."""

from __future__ import annotations

import httpx

from services.runtime.budget import BudgetSpec, LaneBudget, open_budget
from services.runtime.bus import Bus
from services.runtime.outbound.process import run_provider_worker
from services.runtime.schema.history import CORE_SCHEMA
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.salesforce import SALESFORCE_RESOURCES
from services.salesforce_sync.salesforce.client import SalesforceClient
from services.salesforce_sync.settings import SalesforceSettings

# The schema this worker needs: the core tables (the daily budget's among them) and its own.
SCHEMA = (CORE_SCHEMA, "services.salesforce_sync.migrations")

BUDGET_NAME = "salesforce"
HOLD_MARGIN_S = 1.0


def salesforce_budget(settings: SalesforceSettings) -> LaneBudget:
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
    settings: SalesforceSettings,
    *,
    bus: Bus | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Consume and sync until cancelled. ``own_database=False``: the caller opened it."""
    budget = salesforce_budget(settings)
    http = httpx.AsyncClient(timeout=settings.salesforce_timeout_s)
    client = SalesforceClient(settings, http, budget)
    resources = {kind: make(client) for kind, make in SALESFORCE_RESOURCES.items()}
    try:
        await run_provider_worker(
            SALESFORCE,
            resources,
            settings,
            schema=SCHEMA,
            bus=bus,
            own_budget=budget,
            own_database=own_database,
            metrics_port=metrics_port,
            started={"daily_budget": budget.limit},
        )
    finally:
        await http.aclose()
