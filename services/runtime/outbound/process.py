"""A provider worker's process: the outbound handler on the provider's queue, with the
database, the budget and ``/metrics`` around it, until cancelled.

Each provider's ``main`` builds what is its own (settings, API client, resources, budget) and
hands it here; the rest is the same for every provider.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Protocol

from pydantic import SecretStr

from services.runtime.budget import LaneBudget
from services.runtime.bus import Bus
from services.runtime.db import close_db, create_missing_tables, init_db
from services.runtime.metrics import serve_metrics
from services.runtime.outbound.handler import OutboundHandler
from services.runtime.outbound.links import ProviderLink
from services.runtime.outbound.resource import Resource
from services.runtime.outbound.results import Reporter
from services.runtime.worker import Worker
from shared.kinds import EntityKind, Provider
from shared.topology import PROVIDER_QUEUES

log = logging.getLogger(__name__)


class WorkerSettings(Protocol):
    @property
    def database_url(self) -> SecretStr: ...
    @property
    def retry_delays_ms(self) -> tuple[int, ...]: ...
    @property
    def prefetch(self) -> int: ...
    @property
    def db_pool_size(self) -> int: ...


async def run_provider_worker(
    provider: Provider,
    links: type[ProviderLink],
    resources: Mapping[EntityKind, Resource],
    settings: WorkerSettings,
    *,
    bus: Bus,
    models_module: str,
    own_budget: LaneBudget | None,
    own_database: bool,
    metrics_port: int | None,
    started: Mapping[str, object],
) -> None:
    """Consume and sync until cancelled; closes ``bus`` on the way out.

    ``own_budget``: started and closed here (None: the caller's). ``own_database=False``: the
    caller opened it. ``metrics_port``: serve ``/metrics`` there (None: the caller exposes the
    process's metrics, or nobody does). ``started``: what the start-up log line says."""
    handler = OutboundHandler(provider, links, resources, Reporter(bus))
    worker = Worker(
        bus,
        PROVIDER_QUEUES[provider],
        handler,
        settings.retry_delays_ms,
        prefetch=settings.prefetch,
        on_dead_letter=handler.report_dead_letter,
    )
    if own_database:
        await init_db(
            settings.database_url.get_secret_value(), [models_module], settings.db_pool_size
        )
    try:
        if own_database:
            await create_missing_tables()
        async with contextlib.AsyncExitStack() as stack:
            if own_budget is not None:
                await stack.enter_async_context(own_budget)
            log.info(f"{provider.value} sync running", extra=dict(started))
            if metrics_port is not None:
                await stack.enter_async_context(serve_metrics(metrics_port))
            await worker.run()
    finally:
        await bus.close()
        if own_database:
            await close_db()
