"""Prometheus metrics of every twoway process, defined in one place.

The metric objects hold no connection: exposing them is the job of each process's HTTP app
(``/metrics``) or, for HTTP-less workers, of ``serve_metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.runtime.http import EmbeddedServer
from services.runtime.ports import taken
from services.runtime.settings import METRICS_PORT_SETTING

log = logging.getLogger(__name__)

OUTBOX_BACKLOG = Gauge("twoway_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE = Gauge(
    "twoway_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row"
)
EVENTS_PUBLISHED = Counter("twoway_events_published_total", "Outbox events confirmed by the broker")
PUBLISH_FAILURES = Counter("twoway_publish_failures_total", "Outbox publishes not confirmed")
MESSAGES_CONSUMED = Counter(
    "twoway_messages_consumed_total", "Messages delivered to a handler", ["queue"]
)
MESSAGES_SETTLED = Counter(
    "twoway_messages_settled_total",
    "Messages settled by the ack policy",
    ["queue", "action", "reason"],
)
BUDGET_LIMIT = Gauge(
    "twoway_budget_limit", "Requests a rate budget allows per window, deployment-wide", ["budget"]
)
BUDGET_WINDOW = Gauge("twoway_budget_window_seconds", "A rate budget's window", ["budget"])
BUDGET_GRANTS = Counter(
    "twoway_budget_grants_total", "Requests let through by a rate budget", ["budget", "lane"]
)
BUDGET_WAIT = Histogram(
    "twoway_budget_wait_seconds",
    "Time a request waited for its rate-budget slot",
    ["budget", "lane"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
BUDGET_WAITING = Gauge(
    "twoway_budget_waiting", "Requests of this process waiting for a slot", ["budget", "lane"]
)
BUDGET_BUSY = Gauge(
    "twoway_budget_busy_slots",
    "Slots in use deployment-wide: requests in flight or answered less than a window ago",
    ["budget"],
)
BUDGET_PAUSES = Counter(
    "twoway_budget_pauses_total", "Pauses of a budget asked for by the provider (429)", ["budget"]
)
BUDGET_COORDINATED = Gauge(
    "twoway_budget_coordinated",
    "1 while the budget is shared through the database, 0 on this process's fallback share",
    ["budget"],
)
BUDGET_FALLBACKS = Counter(
    "twoway_budget_fallbacks_total",
    "Times this process lost the database and fell back to its own share of a budget",
    ["budget"],
)
BUDGET_MEMBERS = Gauge(
    "twoway_budget_members", "Processes sharing the budget, at the last heartbeat", ["budget"]
)
WEBHOOKS = Counter("twoway_webhooks_total", "Webhook deliveries received", ["provider", "outcome"])
INBOUND_COMMANDS = Counter(
    "twoway_inbound_commands_total", "Inbound commands by result", ["provider", "result"]
)
CONFLICTS = Counter(
    "twoway_conflicts_total",
    "Paths changed on both sides concurrently, by which side's value won",
    ["entity", "provider", "winner"],
)

CATCHUP_COMMANDS = Counter(
    "twoway_catchup_commands_total",
    "Inbound commands catch-up read from a provider's event log and handed on",
    ["provider"],
)
CATCHUP_POSITION = Gauge(
    "twoway_catchup_position_timestamp_seconds",
    "Provider time of the newest event catch-up has read: everything before it was read",
    ["provider"],
)
CATCHUP_REACHED_BACK = Gauge(
    "twoway_catchup_reached_back_seconds",
    "How far back the last catch-up pass started reading (its cursor's age); past the "
    "provider's retention events are lost and only reconcile helps",
    ["provider"],
)
CATCHUP_GAPS = Counter(
    "twoway_catchup_gaps_total",
    "Catch-up passes whose cursor had fallen out of the provider's retention",
    ["provider"],
)
DRIFT_OBJECTS = Gauge(
    "twoway_drift_objects",
    "Objects that differed from the app at the audit's last look and still do after repair",
    ["provider", "entity"],
)
DRIFT_FOUND = Counter(
    "twoway_drift_found_total",
    "Objects the audit found holding values twoway did not know of",
    ["provider", "entity"],
)
DRIFT_REPAIRED = Counter(
    "twoway_drift_repaired_total",
    "Drift the audit repaired through the inbound merge",
    ["provider", "entity"],
)
AUDIT_OBJECTS = Counter(
    "twoway_audit_objects_total", "Objects the audit compared", ["provider", "entity"]
)
AUDIT_PASSES = Counter(
    "twoway_audit_passes_total", "Audit passes over every object completed", ["provider", "entity"]
)


async def metrics_endpoint(request: Request) -> Response:
    refresh = getattr(request.app.state, "refresh_metrics", None)
    if refresh is not None:
        await refresh()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@contextlib.asynccontextmanager
async def serve_metrics(
    port: int,
    host: str = "0.0.0.0",  # every interface: Prometheus scrapes from outside the container
    refresh: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[int]:
    """Serve ``/metrics`` and ``/healthz`` in this event loop while the block runs; yield the
    bound port (``port=0`` picks a free one). ``refresh`` runs before each scrape.

    The socket is bound here, so a port in use raises a one-line ``ConfigError`` naming the
    setting to the caller, instead of ending the process (as uvicorn would).
    """
    app = Starlette(
        routes=[
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ]
    )
    app.state.refresh_metrics = refresh
    try:
        sock = socket.create_server((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise taken(port, METRICS_PORT_SETTING) from None
        raise
    server = EmbeddedServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="metrics-server")
    bound = int(sock.getsockname()[1])
    log.info("metrics served", extra={"port": bound})
    try:
        yield bound
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()
