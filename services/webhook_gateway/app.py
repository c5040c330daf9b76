"""Composition root of the webhook gateway: ``create_app(settings)``.

A delivery is verified, normalized and published with confirms before it is answered:

| delivery                                   | answer |
|--------------------------------------------|--------|
| commands published and confirmed            | 200    |
| an event type twoway does not handle        | 200, nothing published |
| missing/bad/expired signature, bad JSON     | 400, nothing published |
| body over the limit                         | 413    |
| broker down or a publish not confirmed      | 503, so the provider delivers it again |

Every delivery counts once in ``twoway_webhooks_total{provider,outcome}``: ``accepted``,
``ignored``, or the error code of the answer (``bad_signature``, ``malformed_payload``,
``payload_too_large``, ``broker_unavailable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus, BusError, OutgoingMessage
from services.runtime.http import BodyTooLarge, read_limited_body
from services.runtime.metrics import WEBHOOKS, metrics_endpoint
from services.webhook_gateway.providers import PROVIDERS
from services.webhook_gateway.providers.base import WebhookProvider, WebhookRejected
from services.webhook_gateway.settings import GatewaySettings
from shared.commands import command_routing_key, dump_command
from shared.topology import COMMANDS_EXCHANGE

log = logging.getLogger(__name__)


def rejected(status: int, code: str, message: str) -> tuple[str, Response]:
    """An error answer, and its code as the delivery's outcome."""
    body = {"error": {"code": code, "message": message}}
    return code, JSONResponse(body, status_code=status)


def webhook_endpoint(
    provider: WebhookProvider, bus: Callable[[], Bus], settings: GatewaySettings
) -> Callable[[Request], Awaitable[Response]]:
    name = provider.provider.value

    async def endpoint(request: Request) -> Response:
        outcome, response = await handle(request)
        WEBHOOKS.labels(name, outcome).inc()
        return response

    async def handle(request: Request) -> tuple[str, Response]:
        """The delivery's outcome (the metrics' label) and its answer."""
        try:
            body = await read_limited_body(request, settings.max_body_bytes)
        except BodyTooLarge:
            return rejected(
                413, "payload_too_large", f"the body is over {settings.max_body_bytes} bytes"
            )
        try:
            event = provider.verify(body, request.headers)
            commands = provider.normalize(event)
        except WebhookRejected as exc:
            log.warning(
                "webhook rejected",
                extra={"provider": name, "code": exc.code, "reason": str(exc)},
            )
            return rejected(exc.status, exc.code, str(exc))
        context = {"provider": name, "event_id": event.get("id")}
        if not commands:
            log.debug("webhook ignored", extra={**context, "type": event.get("type")})
            return "ignored", JSONResponse({"status": "ignored"})
        messages = [
            OutgoingMessage(
                routing_key=command_routing_key(c), body=dump_command(c), message_id=c.message_id
            )
            for c in commands
        ]
        try:
            # One deadline for the whole hand-off: a (re)connect to a broker that accepts the
            # TCP connection but never answers must end in a 503 too, not in a hung request.
            async with asyncio.timeout(settings.publish_timeout_s):
                results = await bus().publish(
                    COMMANDS_EXCHANGE, messages, timeout=settings.publish_timeout_s
                )
        except (BusError, TimeoutError) as exc:
            results = [exc]
        failed = [r for r in results if r is not None]
        if failed:
            log.warning("webhook not handed on", extra={**context, "error": str(failed[0])})
            return rejected(503, "broker_unavailable", "try again later")
        return "accepted", JSONResponse({"status": "accepted", "commands": len(commands)})

    return endpoint


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: GatewaySettings, bus: Bus | None = None) -> Starlette:
    """The gateway app; ``bus`` replaces the RabbitMQ bus (tests, benchmarks)."""
    state: dict[str, Bus] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["bus"] = bus or AmqpBus(
            settings.amqp_url.get_secret_value(), settings.retry_delays_ms
        )
        try:
            await state["bus"].connect()
        except BusError as exc:
            # Start anyway: deliveries get 503 (and are redelivered) until the broker is back.
            log.warning("broker unavailable at start-up: %s", exc)
        try:
            yield
        finally:
            await state["bus"].close()

    async def readyz(request: Request) -> Response:
        ready = await state["bus"].ping()
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": {"broker": ready}},
            status_code=200 if ready else 503,
        )

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    for name, factory in PROVIDERS.items():
        endpoint = webhook_endpoint(factory(settings), lambda: state["bus"], settings)
        routes.append(Route(f"/webhooks/{name.value}", endpoint, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)
