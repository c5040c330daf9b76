"""Composition root of the CRUD service: ``create_app(settings)`` and the relay's runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise import connections

from services.crud.apikeys.auth import ApiKeyAuth
from services.crud.apikeys.service import KeyVerifier
from services.crud.entities import ENTITIES, model_modules
from services.crud.entity_api import EntityApi
from services.crud.http import (
    DATABASE_ERRORS,
    ApiError,
    api_error_handler,
    http_error_handler,
    internal_error_handler,
    unavailable_handler,
)
from services.crud.inbound.consumer import inbound_worker
from services.crud.inbound.retention import InboxRetention, RetentionConfig
from services.crud.openapi import Endpoint, document, service_endpoints
from services.crud.openapi import routes as endpoint_routes
from services.crud.outbox.relay import Relay, RelayConfig
from services.crud.outbox.writer import OutboxSignal
from services.crud.records import EntityService
from services.crud.settings import CrudSettings
from services.crud.sync.conflicts import endpoints as conflict_endpoints
from services.crud.sync.consumer import sync_results_worker
from services.crud.ui.routes import ui_mount
from services.runtime.amqp import AmqpBus
from services.runtime.amqp_admin import AmqpQueueAdmin
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, serve_metrics
from services.runtime.queues import QueueAdmin
from services.runtime.schema.history import CORE_SCHEMA

SCHEMA = (CORE_SCHEMA,)
log = logging.getLogger(__name__)
API_VERSION = "1"


@dataclass
class Roles:
    api: bool = True
    relay: bool = True
    # Apply inbound commands (providers' changes) from the broker.
    inbound: bool = False
    # Record providers' sync results (the status the API shows) from the broker.
    sync_results: bool = False
    # False when the caller already opened the database (tests that share one pool).
    own_database: bool = True


@dataclass
class Runtime:
    """What the CRUD process owns while it runs."""

    settings: CrudSettings
    bus: Bus
    signal: OutboxSignal = field(default_factory=OutboxSignal)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def refresh_metrics(self) -> None:
        try:
            count, age = await asyncio.wait_for(self.relay().backlog(), 2.0)
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics: outbox backlog unavailable")
            return
        OUTBOX_BACKLOG.set(count)
        OUTBOX_OLDEST_AGE.set(age)

    def relay(self) -> Relay:
        return Relay(
            self.bus,
            self.signal,
            RelayConfig(
                batch_size=self.settings.relay_batch_size,
                poll_interval_s=self.settings.relay_poll_interval_s,
                retention=timedelta(hours=self.settings.outbox_retention_hours),
            ),
        )


def make_bus(settings: CrudSettings) -> Bus:
    return AmqpBus(
        settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
    )


@contextlib.asynccontextmanager
async def running(
    settings: CrudSettings, roles: Roles, bus: Bus | None = None
) -> AsyncIterator[Runtime]:
    """Open the database, start the background roles, and stop them all on exit."""
    runtime = Runtime(settings, bus or make_bus(settings))
    if roles.own_database:
        await init_db(settings.database_url.get_secret_value(), model_modules(), require=SCHEMA)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if settings.metrics_port:
                # Never on the API's port: a scrape counts the outbox, which nobody outside
                # should be able to make the database do.
                refresh = runtime.refresh_metrics if roles.relay or roles.api else None
                await stack.enter_async_context(
                    serve_metrics(settings.metrics_port, refresh=refresh)
                )
            start_roles(runtime, roles)
            yield runtime
    finally:
        for task in runtime.tasks:
            task.cancel()
        await asyncio.gather(*runtime.tasks, return_exceptions=True)
        await runtime.bus.close()
        if roles.own_database:
            await close_db()


def start_roles(runtime: Runtime, roles: Roles) -> None:
    """Start the background roles' tasks."""
    settings = runtime.settings
    if roles.relay:
        runtime.tasks.append(asyncio.create_task(runtime.relay().run(), name="relay"))
    if roles.inbound:
        worker = inbound_worker(
            runtime.bus, runtime.signal.notify, settings.retry_delays_ms, settings.rules()
        )
        runtime.tasks.append(asyncio.create_task(worker.run(), name="inbound"))
        retention = InboxRetention(
            RetentionConfig(retention=timedelta(hours=settings.inbox_retention_hours))
        )
        runtime.tasks.append(asyncio.create_task(retention.run(), name="inbox-retention"))
    if roles.sync_results:
        results = sync_results_worker(runtime.bus, settings.retry_delays_ms)
        runtime.tasks.append(asyncio.create_task(results.run(), name="sync-results"))


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks = {"database": False, "broker": False}
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), 2.0)
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database unreachable")
    checks["broker"] = await runtime.bus.ping()
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


def api_endpoints(settings: CrudSettings) -> list[Endpoint]:
    """Every operation of the API: the service's own, each registered kind's, conflicts."""
    endpoints = [*service_endpoints(readyz)]
    for entity in ENTITIES.values():
        endpoints.extend(EntityApi(entity, settings.providers).endpoints())
    endpoints.extend(conflict_endpoints)
    return endpoints


def create_app(
    settings: CrudSettings,
    roles: Roles | None = None,
    bus: Bus | None = None,
    queue_admin: QueueAdmin | None = None,
) -> Starlette:
    """The API and the browser interface (``/ui/``). ``queue_admin``: where the dead letters
    page looks (default: RabbitMQ at ``TWOWAY_AMQP_URL``)."""
    roles = roles or Roles()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with running(settings, roles, bus) as runtime:
            app.state.runtime = runtime
            app.state.services = {
                kind: EntityService(slice_, runtime.signal.notify)
                for kind, slice_ in ENTITIES.items()
            }
            app.state.api_keys = KeyVerifier(settings.api_key_cache_s)
            admin = queue_admin or AmqpQueueAdmin(settings.amqp_url.get_secret_value())
            app.state.queue_admin = admin
            try:
                yield
            finally:
                if queue_admin is None:
                    await admin.close()

    endpoints = api_endpoints(settings)
    spec = document(endpoints, "twoway CRUD API", API_VERSION)

    async def openapi(request: Request) -> Response:
        return JSONResponse(spec)

    routes: list[BaseRoute] = [*endpoint_routes(endpoints)]
    routes.append(Route("/openapi.json", openapi, methods=["GET"]))
    routes.append(ui_mount(settings))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(ApiKeyAuth)],
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_error_handler,
            **dict.fromkeys(DATABASE_ERRORS, unavailable_handler),
            Exception: internal_error_handler,
        },
    )
