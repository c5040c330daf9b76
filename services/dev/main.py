"""``twoway dev``: every role in one process, each default replaced by the real thing when set.

| part     | embedded default                                  | replaced when set          |
|----------|---------------------------------------------------|----------------------------|
| database | SQLite file ``twoway.db`` in the working directory | ``TWOWAY_DATABASE_URL``    |
| broker   | in-process bus (single process only)              | ``TWOWAY_AMQP_URL``        |
| Stripe   | localstripe child process, webhooks registered    | ``STRIPE_API_KEY``         |
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.crud.apikeys.service import Scope, create_key
from services.crud.app import Roles
from services.crud.app import create_app as create_crud_app
from services.crud.settings import CrudSettings
from services.dev.fake_stripe import FakeStripe, running_fake_stripe
from services.migrate import all_model_modules, migrate
from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.memory import MemoryBroker, MemoryBus
from services.runtime.process import embedded_server, run_until_signal
from services.runtime.settings import ConfigError, load
from services.stripe_sync.main import main as stripe_sync_main
from services.stripe_sync.settings import StripeSyncSettings
from services.webhook_gateway.app import create_app as create_gateway_app
from services.webhook_gateway.settings import GatewaySettings

log = logging.getLogger("twoway.dev")


@dataclass(frozen=True)
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    gateway_port: int = 8001


def _say(line: str = "") -> None:
    print(line, file=sys.stdout, flush=True)


@contextlib.asynccontextmanager
async def _stripe(webhook_url: str) -> AsyncIterator[FakeStripe | None]:
    """The fake Stripe unless a real key is configured (then None)."""
    try:
        load(StripeSyncSettings)
    except ConfigError:
        async with running_fake_stripe(webhook_url) as fake:
            yield fake
        return
    yield None


def _buses(crud: CrudSettings) -> tuple[str, list[Bus]]:
    if "amqp_url" in crud.model_fields_set:
        url = crud.amqp_url.get_secret_value()
        queues = crud.work_queues()
        return "RabbitMQ", [AmqpBus(url, crud.retry_delays_ms, queues) for _ in range(3)]
    broker = MemoryBroker()
    queues = crud.work_queues()
    return "in-process bus", [MemoryBus(broker, crud.retry_delays_ms, queues) for _ in range(3)]


async def run_dev(options: DevOptions) -> None:
    crud_settings = load(CrudSettings)
    if "metrics_port" not in crud_settings.model_fields_set:
        # One process: the crud server's /metrics shows every role; off unless asked for.
        crud_settings = crud_settings.model_copy(update={"metrics_port": 0})
    api_url = f"http://{options.host}:{options.port}"
    webhook_url = f"http://{options.host}:{options.gateway_port}/webhooks/stripe"
    broker_name, (crud_bus, sync_bus, gateway_bus) = _buses(crud_settings)
    async with _stripe(webhook_url) as fake:
        if fake is not None:
            sync_settings = load(
                StripeSyncSettings,
                stripe_api_key=fake.api_key,
                stripe_api_base=fake.url,
            )
            gateway_settings = load(
                GatewaySettings,
                stripe_webhook_secret=fake.webhook_secret,
                stripe_mode="test",
                metrics_port=0,
            )
        else:
            sync_settings = load(StripeSyncSettings)
            try:
                gateway_settings = load(GatewaySettings, metrics_port=0)
            except ConfigError:
                raise ConfigError(
                    "STRIPE_API_KEY is set but STRIPE_WEBHOOK_SECRET is not: run "
                    f"`stripe listen --forward-to {webhook_url}` and set the secret it prints"
                ) from None

        await migrate(crud_settings)
        await init_db(crud_settings.database_url.get_secret_value(), all_model_modules())
        try:
            _, api_key = await create_key(Scope.WRITE, name="twoway dev")
            crud_app = create_crud_app(
                crud_settings,
                Roles(own_database=False, relay=True, inbound=True, sync_results=True),
                bus=crud_bus,
            )
            gateway_app = create_gateway_app(gateway_settings, bus=gateway_bus)
            _banner(options, api_url, webhook_url, broker_name, crud_settings, fake, api_key)
            await run_until_signal(
                [
                    embedded_server(crud_app, options.host, options.port, crud_settings),
                    embedded_server(
                        gateway_app, options.host, options.gateway_port, gateway_settings
                    ),
                ],
                [stripe_sync_main(sync_settings, bus=sync_bus, own_database=False)],
            )
        finally:
            await close_db()
    _say("twoway dev stopped")


def _banner(
    options: DevOptions,
    api_url: str,
    webhook_url: str,
    broker_name: str,
    crud: CrudSettings,
    fake: FakeStripe | None,
    api_key: str,
) -> None:
    database = crud.database_url.get_secret_value()
    if "database_url" in crud.model_fields_set:
        database = database.split("@")[-1]  # never print credentials
    _say("twoway dev is running (Ctrl-C stops everything)")
    _say(f"  API             {api_url}")
    _say(f"  webhooks        {webhook_url}")
    _say(f"  database        {database}")
    _say(f"  broker          {broker_name}")
    _say(f"  API key         {api_key}   (write scope, made for this run)")
    auth = '-H "Authorization: Bearer $TWOWAY_API_KEY"'
    if fake is not None:
        _say(f"  fake Stripe     {fake.url}   (localstripe, API key {fake.api_key})")
        _say()
        _say("Try it:")
        _say(f"  export TWOWAY_API_KEY={api_key}")
        _say(f"  curl -s -XPOST {api_url}/customers {auth} -H 'content-type: application/json' \\")
        _say('       -d \'{"name": "Ada", "email": "ada@example.com"}\'')
        _say(f"  curl -s {fake.url}/v1/customers -u {fake.api_key}:   # it is in Stripe")
        _say(f"  curl -s {fake.url}/v1/customers/<cus_id> -u {fake.api_key}: -d name=Grace")
        _say(f"  curl -s {api_url}/customers {auth}   # and back here")
        _say(f"  curl -s -XPOST {api_url}/products {auth} -H 'content-type: application/json' \\")
        _say('       -d \'{"name": "Widget", "description": "A fine widget"}\'')
        _say(f"  curl -s {fake.url}/v1/products -u {fake.api_key}:   # products too")
    else:
        _say("  Stripe          the real API (STRIPE_API_KEY)")
        _say(f"  forward webhooks with: stripe listen --forward-to {webhook_url}")
    _say()
