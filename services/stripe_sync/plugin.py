"""Stripe as a provider: everything twoway's generic code needs of it, registered once."""

from __future__ import annotations

from datetime import timedelta

from services.runtime.providers import ProviderPlugin, main_worker
from services.stripe_sync import metrics as _metrics  # noqa: F401 - registers its metrics
from services.stripe_sync.dev import dev
from services.stripe_sync.names import STRIPE
from services.stripe_sync.repair.sources import open_sources
from services.stripe_sync.settings import (
    WEBHOOK_NEEDS,
    WORKER_NEEDS,
    StripeLinks,
    StripeSettings,
)
from services.stripe_sync.webhooks import from_settings
from shared.kinds import EntityKind


def dashboard_url(links: StripeLinks, kind: EntityKind, external_id: str) -> str | None:
    if links.ui_stripe_dashboard == "off":
        return None
    mode = "/test" if links.ui_stripe_dashboard == "test" else ""
    return f"https://dashboard.stripe.com{mode}/{kind.value}s/{external_id}"


PLUGIN = ProviderPlugin(
    name=STRIPE,
    kinds=frozenset({EntityKind.CUSTOMER, EntityKind.PRODUCT}),
    settings=StripeSettings,
    worker=main_worker("services.stripe_sync.main"),
    worker_needs=WORKER_NEEDS,
    webhooks=from_settings,
    webhook_needs=WEBHOOK_NEEDS,
    repair=open_sources,
    dev=dev,
    description="send entity changes to Stripe (outbound worker)",
    migrations="services.stripe_sync.migrations",
    # Stripe retries a failed delivery for up to three days.
    redelivery_window=timedelta(days=3),
    links=StripeLinks,
    repair_metrics_port=9106,
    record_url=dashboard_url,
    enabled_by_default=True,
    quiet_loggers=("stripe",),
)
