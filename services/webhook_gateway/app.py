"""Composition root of the webhook gateway: ``create_app(settings)``.

A delivery is verified, normalized and published with confirms before it is answered:

| delivery                                   | answer |
|--------------------------------------------|--------|
| commands published and confirmed            | 200    |
| an event type twoway does not handle        | 200, nothing published |
| authentic, but not this deployment's        | 200, nothing published (see below) |
| missing/bad/expired signature, bad JSON     | 400, nothing published |
| body not received within the deadline       | 408    |
| body over the limit                         | 413    |
| broker down or a publish not confirmed      | 503, so the provider delivers it again |

Every delivery counts once in ``twoway_webhooks_total{provider,outcome}``: ``accepted``,
``ignored``, the reason an authentic event is not ours (``livemode_mismatch``,
``unknown_account``), or the error code of the answer (``bad_signature``,
``malformed_payload``, ``body_timeout``, ``payload_too_large``, ``broker_unavailable``).

``/metrics`` is served on ``TWOWAY_METRICS_PORT``, never on the public webhook port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus, BusError, OutgoingMessage
from services.runtime.http import BodyTimeout, BodyTooLarge, read_limited_body
from services.runtime.metrics import WEBHOOKS, serve_metrics
from services.runtime.providers import plugin
from services.runtime.settings import ProviderSettings, load
from services.runtime.webhooks import WebhookProvider, WebhookRejected
from services.webhook_gateway.settings import GatewaySettings
from shared.commands import command_routing_key, dump_command
from shared.kinds import Provider
from shared.topology import COMMANDS_EXCHANGE

log = logging.getLogger(__name__)


def rejected(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> tuple[str, Response]:
    """An error answer, and its code as the delivery's outcome."""
    body = {"error": {"code": code, "message": message}}
    return code, JSONResponse(body, status_code=status, headers=headers)


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
        except BodyTimeout:
            # Closing: the rest of the slow upload would otherwise still hold the connection.
            return rejected(
                408, "body_timeout", "the body did not arrive in time", {"Connection": "close"}
            )
        try:
            event = provider.verify(body, request.headers, request.path_params)
            reason = provider.out_of_scope(event)
            commands = provider.normalize(event) if reason is None else []
        except WebhookRejected as exc:
            log.warning(
                "webhook rejected",
                extra={"provider": name, "code": exc.code, "reason": str(exc)},
            )
            return rejected(exc.status, exc.code, str(exc))
        context = {"provider": name, "event_id": event.get("id")}
        if reason is not None:
            log.warning(
                "webhook ignored: not this deployment's", extra={**context, "reason": reason}
            )
            return reason, provider.acknowledge("ignored", {"reason": reason})
        if not commands:
            log.debug("webhook ignored", extra={**context, "type": event.get("type")})
            return "ignored", provider.acknowledge("ignored", {})
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
        return "accepted", provider.acknowledge("accepted", {"commands": len(commands)})

    return endpoint


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def provider_settings(
    settings: GatewaySettings, given: Mapping[Provider, ProviderSettings] | None = None
) -> dict[Provider, ProviderSettings]:
    """Each enabled provider's settings: ``given``, or read from the environment; a missing
    one the gateway needs is a one-line ``ConfigError`` naming its variable."""
    chosen: dict[Provider, ProviderSettings] = {}
    for name in settings.providers:
        found = (given or {}).get(name)
        if found is None:
            found = load(plugin(name).settings, providers=settings.providers)
        found.require(*plugin(name).webhook_needs, provider=name)
        chosen[name] = found
    return chosen


def create_app(
    settings: GatewaySettings,
    bus: Bus | None = None,
    providers: Mapping[Provider, ProviderSettings] | None = None,
) -> Starlette:
    """The gateway app; ``bus`` replaces the RabbitMQ bus (tests, benchmarks); ``providers``:
    the enabled providers' settings (None: read from the environment)."""
    state: dict[str, Bus] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["bus"] = bus or AmqpBus(
            settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
        )
        try:
            await state["bus"].connect()
        except BusError as exc:
            # Start anyway: deliveries get 503 (and are redelivered) until the broker is back.
            log.warning("broker unavailable at start-up: %s", exc)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if settings.metrics_port:
                    await stack.enter_async_context(serve_metrics(settings.metrics_port))
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
    ]
    for name, own in provider_settings(settings, providers).items():
        provider = plugin(name).webhooks(own)
        endpoint = webhook_endpoint(provider, lambda: state["bus"], settings)
        path = provider.route.replace("{provider}", name.value)
        routes.append(Route(path, endpoint, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)
