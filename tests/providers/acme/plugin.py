"""Acme as a provider: everything twoway's generic code needs of it, registered once (from
the tests: ``register_test_provider("tests.providers.acme")``)."""

from __future__ import annotations

from datetime import timedelta

from services.runtime.providers import ProviderPlugin, WorkerRun
from shared.kinds import EntityKind
from tests.providers.acme import metrics as _metrics  # noqa: F401 - registers its metrics
from tests.providers.acme.dev import dev
from tests.providers.acme.names import ACME
from tests.providers.acme.repair import open_sources
from tests.providers.acme.settings import WEBHOOK_NEEDS, WORKER_NEEDS, AcmeSettings
from tests.providers.acme.webhooks import from_settings


async def run_worker(settings: AcmeSettings, run: WorkerRun) -> None:
    from tests.providers.acme.main import main

    await main(settings, bus=run.bus, own_database=run.own_database, metrics_port=run.metrics_port)


PLUGIN = ProviderPlugin(
    name=ACME,
    kinds=frozenset({EntityKind.CUSTOMER}),
    settings=AcmeSettings,
    worker=run_worker,
    worker_needs=WORKER_NEEDS,
    webhooks=from_settings,
    webhook_needs=WEBHOOK_NEEDS,
    repair=open_sources,
    dev=dev,
    description="send customer changes to Acme contacts (a test-only CRM)",
    migrations="tests.providers.acme.migrations",
    # A webhook is tried four times within a couple of seconds, then dropped.
    redelivery_window=timedelta(minutes=1),
    enabled_by_default=False,
)
