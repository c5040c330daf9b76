"""``twoway dev``: every role in one process, each default replaced by the real thing when set.

| part     | embedded default                                  | replaced when set          |
|----------|---------------------------------------------------|----------------------------|
| database | SQLite file ``twoway.db`` in the working directory | ``TWOWAY_DATABASE_URL``    |
| broker   | in-process bus (single process only)              | ``TWOWAY_AMQP_URL``        |
| Stripe   | localstripe child process, webhooks registered    | ``STRIPE_API_KEY``         |
| Salesforce | the fake Salesforce as a child process, its     | ``SALESFORCE_CLIENT_ID``   |
|          | Outbound Messages sent to the gateway             | (and the rest of its set)  |

Providers: Stripe and Salesforce unless ``TWOWAY_PROVIDERS`` says otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass

from services.crud.apikeys.service import Scope, create_key
from services.crud.app import Roles
from services.crud.app import create_app as create_crud_app
from services.crud.settings import CrudSettings
from services.dev.fake_salesforce.process import FakeSalesforceProcess, running_fake_salesforce
from services.dev.fake_stripe import FakeStripe, running_fake_stripe
from services.migrate import all_model_modules, migrate
from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.memory import MemoryBroker, MemoryBus
from services.runtime.process import embedded_server, run_until_signal
from services.runtime.queues import QueueAdmin
from services.runtime.settings import ConfigError, load
from services.salesforce_sync.main import main as salesforce_sync_main
from services.salesforce_sync.settings import SalesforceSyncSettings
from services.stripe_sync.main import main as stripe_sync_main
from services.stripe_sync.settings import StripeSyncSettings
from services.webhook_gateway.app import create_app as create_gateway_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider

log = logging.getLogger("twoway.dev")

DEV_PROVIDERS = (Provider.STRIPE, Provider.SALESFORCE)


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


@dataclass(frozen=True)
class SalesforceRun:
    """How this run reaches Salesforce: the fake (with the gateway settings it needs) or the
    real org configured in the environment (``fake`` None)."""

    settings: SalesforceSyncSettings
    fake: FakeSalesforceProcess | None = None
    gateway: Mapping[str, object] | None = None


@contextlib.asynccontextmanager
async def _salesforce(
    gateway_url: str, providers: tuple[Provider, ...]
) -> AsyncIterator[SalesforceRun | None]:
    """The fake Salesforce unless a real org is configured; None when it is not a provider."""
    if Provider.SALESFORCE not in providers:
        yield None
        return
    try:
        real = load(SalesforceSyncSettings, providers=providers)
    except ConfigError:
        pass
    else:
        yield SalesforceRun(real)
        return
    token = secrets.token_urlsafe(24)
    outbound_url = f"{gateway_url}/webhooks/salesforce/{token}"
    async with running_fake_salesforce(outbound_url=outbound_url) as fake:
        settings = load(
            SalesforceSyncSettings,
            providers=providers,
            salesforce_login_url=fake.url,
            salesforce_client_id=fake.client_id,
            salesforce_client_secret=fake.client_secret,
        )
        gateway = {
            "salesforce_org_id": fake.org_id,
            "salesforce_webhook_token": token,
            "salesforce_integration_user_id": fake.integration_user_id,
        }
        yield SalesforceRun(settings, fake, gateway)


def _buses(crud: CrudSettings, count: int) -> tuple[str, list[Bus], QueueAdmin | None]:
    """The buses, and where the UI's dead letters page looks (None: RabbitMQ's own)."""
    queues = crud.work_queues()
    if "amqp_url" in crud.model_fields_set:
        url = crud.amqp_url.get_secret_value()
        buses: list[Bus] = [AmqpBus(url, crud.retry_delays_ms, queues) for _ in range(count)]
        return "RabbitMQ", buses, None
    broker = MemoryBroker()
    buses = [MemoryBus(broker, crud.retry_delays_ms, queues) for _ in range(count)]
    return "in-process bus", buses, broker


async def run_dev(options: DevOptions) -> None:
    crud_settings = load(CrudSettings)
    if "providers" not in crud_settings.model_fields_set:
        crud_settings = crud_settings.model_copy(update={"providers": DEV_PROVIDERS})
    providers = crud_settings.providers
    if "metrics_port" not in crud_settings.model_fields_set:
        # One process: the crud server's /metrics shows every role; off unless asked for.
        crud_settings = crud_settings.model_copy(update={"metrics_port": 0})
    api_url = f"http://{options.host}:{options.port}"
    gateway_url = f"http://{options.host}:{options.gateway_port}"
    webhook_url = f"{gateway_url}/webhooks/stripe"
    broker_name, buses, queue_admin = _buses(crud_settings, 4)
    crud_bus, sync_bus, gateway_bus, salesforce_bus = buses
    async with _stripe(webhook_url) as fake, _salesforce(gateway_url, providers) as salesforce:
        gateway_extra = {"providers": providers, "metrics_port": 0}
        if salesforce is not None and salesforce.gateway is not None:
            gateway_extra.update(salesforce.gateway)
        if fake is not None:
            sync_settings = load(
                StripeSyncSettings,
                stripe_api_key=fake.api_key,
                stripe_api_base=fake.url,
                providers=providers,
            )
            gateway_settings = load(
                GatewaySettings,
                stripe_webhook_secret=fake.webhook_secret,
                stripe_mode="test",
                **gateway_extra,
            )
        else:
            sync_settings = load(StripeSyncSettings, providers=providers)
            try:
                gateway_settings = load(GatewaySettings, **gateway_extra)
            except ConfigError:
                raise ConfigError(
                    "STRIPE_API_KEY is set but STRIPE_WEBHOOK_SECRET is not: run "
                    f"`stripe listen --forward-to {webhook_url}` and set the secret it prints"
                ) from None
        workers: list[Awaitable[None]] = [
            stripe_sync_main(sync_settings, bus=sync_bus, own_database=False)
        ]
        if salesforce is not None:
            workers.append(
                salesforce_sync_main(salesforce.settings, bus=salesforce_bus, own_database=False)
            )

        await migrate(crud_settings)
        await init_db(crud_settings.database_url.get_secret_value(), all_model_modules())
        try:
            _, api_key = await create_key(Scope.WRITE, name="twoway dev")
            crud_app = create_crud_app(
                crud_settings,
                Roles(own_database=False, relay=True, inbound=True, sync_results=True),
                bus=crud_bus,
                queue_admin=queue_admin,
            )
            gateway_app = create_gateway_app(gateway_settings, bus=gateway_bus)
            _banner(options, api_url, webhook_url, broker_name, crud_settings, fake, api_key)
            _salesforce_banner(api_url, salesforce)
            await run_until_signal(
                [
                    embedded_server(crud_app, options.host, options.port, crud_settings),
                    embedded_server(
                        gateway_app, options.host, options.gateway_port, gateway_settings
                    ),
                ],
                workers,
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
    _say(f"  browser UI      {api_url}/ui/   (sign in with the API key below)")
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


def _salesforce_banner(api_url: str, salesforce: SalesforceRun | None) -> None:
    if salesforce is None:
        return
    if salesforce.fake is None:
        _say(f"  Salesforce      the real org at {salesforce.settings.salesforce_login_url}")
        _say()
        return
    url = salesforce.fake.url
    auth = '-H "Authorization: Bearer $TWOWAY_API_KEY"'
    _say(f"  fake Salesforce {url}   (a fake, not Salesforce: Contacts, Outbound Messages)")
    _say()
    _say("Three systems: customers are Salesforce Contacts too.")
    _say(f"  curl -s {url}/_fake/contacts   # the customer is a Contact; take its Id")
    _say(f"  curl -s -XPATCH {url}/_fake/contacts/<Id> -H 'content-type: application/json' \\")
    _say('       -d \'{"Phone": "+1 555 0199"}\'   # a Salesforce user edits it')
    _say(f"  curl -s {api_url}/customers {auth}   # the phone is here, and in Stripe")
    _say()
    _say("A failure, to see under Dead letters in the UI and replay from there:")
    _say(f"  curl -s -XPOST {url}/_fake/faults -H 'content-type: application/json' \\")
    _say('       -d \'{"status": 400, "error_code": "INVALID_FIELD", "message": "refused"}\'')
    _say("  # then edit a customer in the UI: Salesforce refuses it once; replay it")
    _say()
