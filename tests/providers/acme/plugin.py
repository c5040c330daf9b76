"""Acme as a provider: everything twoway's generic code needs of it, registered once (from
the tests: ``register_test_provider("tests.providers.acme")``)."""

from __future__ import annotations

from datetime import timedelta

from services.runtime.providers import ProviderPlugin, main_worker
from shared.kinds import EntityKind
from tests.providers.acme import metrics as _metrics  # noqa: F401 - registers its metrics
from tests.providers.acme.dev import dev
from tests.providers.acme.names import ACME
from tests.providers.acme.repair import open_sources
from tests.providers.acme.settings import WEBHOOK_NEEDS, WORKER_NEEDS, AcmeSettings
from tests.providers.acme.webhooks import from_settings

PLUGIN = ProviderPlugin(
    name=ACME,
    kinds=frozenset({EntityKind.CUSTOMER}),
    settings=AcmeSettings,
    worker=main_worker("tests.providers.acme.main"),
    worker_needs=WORKER_NEEDS,
    webhooks=from_settings,
    webhook_needs=WEBHOOK_NEEDS,
    repair=open_sources,
    dev=dev,
    description="send customer changes to Acme contacts (a test-only CRM)",
    migrations="tests.providers.acme.migrations",
    # A webhook is tried four times within a couple of seconds, then dropped.
    redelivery_window=timedelta(minutes=1),
    repair_metrics_port=9109,
    enabled_by_default=False,
)
