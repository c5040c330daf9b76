"""The contract suite runs once per registered provider that has a harness (and, where a test
takes ``kind``, once per kind its harness exercises), each on a deployment of that provider
alone: crud with every role, the gateway and the provider's worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from services.crud.app import Roles
from services.crud.settings import CrudSettings
from services.runtime.providers import WorkerRun, plugin, plugins
from services.runtime.settings import ProviderSettings
from services.webhook_gateway.app import create_app as create_gateway_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.topology import work_queues
from tests.conftest import Broker, crud_with, serve
from tests.e2e.conftest import db  # noqa: F401 - every service's tables, on one pool
from tests.providers import harnesses as _harnesses  # noqa: F401 - registers the harnesses
from tests.providers.deployment import Deployment
from tests.providers.harness import HARNESSES, ProviderHarness
from tests.scrape import free_port
from tests.stripe_sync.conftest import handlers_running
from tests.waiting import ended, eventually

STOP_S = 30.0


def contract_providers() -> list[Provider]:
    """Every registered provider with a harness, in registration order."""
    return [name for name in plugins() if name in HARNESSES]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kind" in metafunc.fixturenames:
        cases = [(p, k) for p in contract_providers() for k in HARNESSES[p]().kinds()]
        metafunc.parametrize(("provider", "kind"), cases, ids=[f"{p}-{k}" for p, k in cases])
    elif "provider" in metafunc.fixturenames:
        metafunc.parametrize("provider", contract_providers(), ids=str)


@pytest.fixture
def harness(provider: Provider) -> ProviderHarness:
    return HARNESSES[provider]()


@pytest.fixture
def settings(settings: CrudSettings, provider: Provider) -> CrudSettings:
    return settings.model_copy(update={"providers": (provider,)})


@pytest.fixture
async def deployment(
    provider: Provider,
    harness: ProviderHarness,
    settings: CrudSettings,
    db: None,  # noqa: F811
    broker: Broker,
) -> AsyncIterator[Deployment]:
    """crud (API, relay, inbound, sync results), the gateway serving the provider's webhooks,
    and the provider's worker, all for ``provider`` alone."""
    base = {
        "database_url": settings.database_url,
        "amqp_url": settings.amqp_url,
        "retry_delays_ms": settings.retry_delays_ms,
        "providers": (provider,),
        "metrics_port": 0,
    }
    # The fake is told where to send its webhooks before the gateway, which needs the
    # provider's settings the fake's start makes, can start: the gateway's port is chosen now.
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    gateway_settings = GatewaySettings.model_validate(base)
    roles = Roles(own_database=False, inbound=True, sync_results=True)
    async with harness.settings(base, gateway_url) as sync:
        gateway = create_gateway_app(gateway_settings, providers={provider: sync})
        async with serve(gateway, gateway_settings, port=port), crud_with(settings, roles) as api:
            worker = asyncio.create_task(run_worker(provider, sync))
            deployment = Deployment(
                provider, harness, api, sync, settings, broker, work_queues([provider])
            )
            try:
                yield deployment
                # Whatever a failed test left moving settles before the services stop.
                with contextlib.suppress(AssertionError):
                    await deployment.quiet(timeout=5)
            finally:
                await stop(worker)


async def run_worker(provider: Provider, sync: ProviderSettings) -> None:
    """The provider's worker, on the test's database pool."""
    await plugin(provider).worker(sync, WorkerRun(own_database=False))


async def stop(worker: asyncio.Task[None]) -> None:
    """Stop the worker; an error it stopped with by itself is the test's."""
    if worker.done():
        worker.result()
    worker.cancel()
    await ended(worker, STOP_S, "the cancelled worker")
    with contextlib.suppress(asyncio.CancelledError):
        worker.result()
    # Its handlers run in aio-pika's tasks, which the worker's stop does not wait for: none
    # may outlive the test (and its database).
    await eventually(lambda: not handlers_running(), what="the worker's handlers done")
