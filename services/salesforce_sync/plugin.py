"""Salesforce as a provider: everything twoway's generic code needs of it, registered once."""

from __future__ import annotations

from datetime import timedelta

from services.runtime.providers import ProviderPlugin, main_worker
from services.salesforce_sync import metrics as _metrics  # noqa: F401 - registers its metrics
from services.salesforce_sync.dev import dev
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.repair.sources import open_sources
from services.salesforce_sync.settings import (
    WEBHOOK_NEEDS,
    WORKER_NEEDS,
    SalesforceLinks,
    SalesforceSettings,
)
from services.salesforce_sync.webhooks import from_settings
from shared.kinds import EntityKind


def record_url(links: SalesforceLinks, kind: EntityKind, external_id: str) -> str | None:
    base = links.ui_salesforce_url.rstrip("/")
    return f"{base}/{external_id}" if base else None


PLUGIN = ProviderPlugin(
    name=SALESFORCE,
    kinds=frozenset({EntityKind.CUSTOMER}),
    settings=SalesforceSettings,
    worker=main_worker("services.salesforce_sync.main"),
    worker_needs=WORKER_NEEDS,
    webhooks=from_settings,
    webhook_needs=WEBHOOK_NEEDS,
    repair=open_sources,
    dev=dev,
    description="send customer changes to Salesforce Contacts (outbound worker)",
    migrations="services.salesforce_sync.migrations",
    # An Outbound Message is delivered again for up to 24 hours.
    redelivery_window=timedelta(hours=24),
    links=SalesforceLinks,
    repair_metrics_port=9108,
    record_url=record_url,
)
