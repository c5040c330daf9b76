"""``twoway dev``: every role in one process, each default replaced by the real thing when set.

| part      | embedded default                                   | replaced when set         |
|-----------|----------------------------------------------------|---------------------------|
| database  | SQLite file ``twoway.db`` in the working directory | ``TWOWAY_DATABASE_URL``   |
| broker    | in-process bus (single process only)               | ``TWOWAY_AMQP_URL``       |
| providers | each provider's fake as a child process (its dev   | the provider's own        |
|           | launcher: Stripe's is localstripe)                 | credentials               |

Providers: every registered one unless ``TWOWAY_PROVIDERS`` says otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Awaitable
from dataclasses import dataclass

from services.crud.apikeys.service import Scope, create_key
from services.crud.app import Roles
from services.crud.app import create_app as create_crud_app
from services.crud.settings import CrudSettings
from services.migrate import all_model_modules, migrate
from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus
from services.runtime.db import close_db, init_db
from services.runtime.memory import MemoryBroker, MemoryBus
from services.runtime.process import embedded_server, run_until_signal
from services.runtime.providers import DevContext, DevRun, WorkerRun, plugin, plugins
from services.runtime.queues import QueueAdmin
from services.runtime.settings import load
from services.webhook_gateway.app import create_app as create_gateway_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider

log = logging.getLogger("twoway.dev")


@dataclass(frozen=True)
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    gateway_port: int = 8001


def _say(line: str = "") -> None:
    print(line, file=sys.stdout, flush=True)


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
        crud_settings = crud_settings.model_copy(update={"providers": tuple(plugins())})
    providers = crud_settings.providers
    if "metrics_port" not in crud_settings.model_fields_set:
        # One process: the crud server's /metrics shows every role; off unless asked for.
        crud_settings = crud_settings.model_copy(update={"metrics_port": 0})
    api_url = f"http://{options.host}:{options.port}"
    gateway_url = f"http://{options.host}:{options.gateway_port}"
    broker_name, buses, queue_admin = _buses(crud_settings, 2 + len(providers))
    crud_bus, gateway_bus, *worker_buses = buses
    context = DevContext(gateway_url, api_url, providers)
    async with contextlib.AsyncExitStack() as stack:
        runs: dict[Provider, DevRun] = {}
        for name in providers:
            runs[name] = await stack.enter_async_context(plugin(name).dev(context))
        gateway_settings = load(GatewaySettings, providers=providers, metrics_port=0)
        workers: list[Awaitable[None]] = [
            plugin(name).worker(run.settings, WorkerRun(bus=bus, own_database=False))
            for (name, run), bus in zip(runs.items(), worker_buses, strict=True)
        ]

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
            gateway_app = create_gateway_app(
                gateway_settings,
                bus=gateway_bus,
                providers={name: run.settings for name, run in runs.items()},
            )
            _banner(api_url, gateway_url, broker_name, crud_settings, api_key)
            for run in runs.values():
                for line in run.banner:
                    _say(line)
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
    api_url: str, gateway_url: str, broker_name: str, crud: CrudSettings, api_key: str
) -> None:
    database = crud.database_url.get_secret_value()
    if "database_url" in crud.model_fields_set:
        database = database.split("@")[-1]  # never print credentials
    auth = '-H "Authorization: Bearer $TWOWAY_API_KEY"'
    _say("twoway dev is running (Ctrl-C stops everything)")
    _say(f"  browser UI      {api_url}/ui/   (sign in with the API key below)")
    _say(f"  API             {api_url}")
    _say(f"  webhooks        {gateway_url}/webhooks/<provider>")
    _say(f"  database        {database}")
    _say(f"  broker          {broker_name}")
    _say(f"  providers       {', '.join(crud.providers)}")
    _say(f"  API key         {api_key}   (write scope, made for this run)")
    _say()
    _say("Try it:")
    _say(f"  export TWOWAY_API_KEY={api_key}")
    _say(f"  curl -s -XPOST {api_url}/customers {auth} -H 'content-type: application/json' \\")
    _say('       -d \'{"name": "Ada", "email": "ada@example.com"}\'')
    _say(f"  curl -s {api_url}/customers {auth}   # and, once a provider changed it, back here")
    _say(f"  curl -s -XPOST {api_url}/products {auth} -H 'content-type: application/json' \\")
    _say('       -d \'{"name": "Widget", "description": "A fine widget"}\'')
    _say()
