"""A provider worker's process: the outbound handler on the provider's queue, with the
database, the budget and ``/metrics`` around it, until cancelled.

Each provider's ``main`` builds what is its own (settings, API client, resources, budget) and
hands it here; the rest is the same for every provider.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from pydantic import SecretStr

from services.runtime.amqp import AmqpBus
from services.runtime.budget import LaneBudget
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.metrics import serve_metrics
from services.runtime.outbound import WORKER_MODELS
from services.runtime.outbound.adoption import Adoption, announcer
from services.runtime.outbound.handler import OutboundHandler
from services.runtime.outbound.resource import Resource
from services.runtime.outbound.results import Reporter
from services.runtime.worker import Worker
from shared.kinds import EntityKind, Provider
from shared.topology import WorkQueue, provider_queue

log = logging.getLogger(__name__)


class WorkerSettings(Protocol):
    """What the process reads of a provider worker's settings."""

    @property
    def database_url(self) -> SecretStr: ...
    @property
    def amqp_url(self) -> SecretStr: ...
    @property
    def retry_delays_ms(self) -> tuple[int, ...]: ...
    @property
    def prefetch(self) -> int: ...
    @property
    def db_pool_size(self) -> int: ...
    def work_queues(self) -> tuple[WorkQueue, ...]: ...


async def run_provider_worker(
    provider: Provider,
    resources: Mapping[EntityKind, Resource],
    settings: WorkerSettings,
    *,
    schema: Sequence[str],
    bus: Bus | None = None,
    own_budget: LaneBudget | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
    link_by_match: bool = False,
    started: Mapping[str, object] | None = None,
) -> None:
    """Consume ``provider``'s queue and sync until cancelled; closes the bus on the way out.

    ``schema``: the migration packages that must have run. ``bus``: None, the deployment's.
    ``own_budget``: started and closed here (None: the caller runs the budget the resources
    use). ``own_database=False``: the caller opened it. ``metrics_port`` (0 picks a free one):
    serve ``/metrics`` there (None: the caller exposes the process's metrics, or nobody does).
    ``link_by_match``: adopt the one matching object instead of creating (see ``adoption``).
    ``started``: what the start-up log line says besides the prefetch."""
    bus = bus or AmqpBus(
        settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
    )
    adoption = Adoption(provider, announcer(bus), link_by_match=link_by_match)
    handler = OutboundHandler(provider, resources, Reporter(bus), adoption)
    worker = Worker(
        bus,
        provider_queue(provider),
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
            require=schema,
        )
    try:
        async with contextlib.AsyncExitStack() as stack:
            if own_budget is not None:
                await stack.enter_async_context(own_budget)
            log.info(
                f"{provider.value} sync running",
                extra={**(started or {}), "prefetch": settings.prefetch},
            )
            if metrics_port is not None:
                await stack.enter_async_context(serve_metrics(metrics_port))
            await worker.run()
    finally:
        await bus.close()
        if own_database:
            await close_db()
