"""Fixtures on the real services: MariaDB, RabbitMQ, and localstripe in-process.

The session gets its own database and RabbitMQ vhost (both named ``$TWOWAY_TEST_NAMESPACE``,
default ``twoway_test_t<revision>``), made anew at its start; every test starts on empty
tables and freshly declared queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pymysql
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from services.crud.apikeys.service import Scope, create_key
from services.crud.app import Roles, create_app
from services.crud.entities import model_modules
from services.crud.settings import CrudSettings
from services.migrate import migrate
from services.runtime.amqp import declare_topology
from services.runtime.budget.schema import TABLES as BUDGET_TABLES
from services.runtime.db import close_db, init_db
from services.runtime.http import server_config
from services.runtime.providers import all_work_queues
from services.runtime.settings import HttpServiceSettings, ProviderSettings
from services.salesforce_sync.fake.process import FakeSalesforceProcess, running_fake_salesforce
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from services.webhook_gateway.app import create_app as create_gateway_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.topology import EVENTS_EXCHANGE, UNROUTED_QUEUE
from tests.fakes.salesforce_fake import SalesforceFake
from tests.fakes.stripe_fake import FakeStripe
from tests.providers.harness import register_test_provider
from tests.scrape import free_port
from tests.servers import MARIADB, RABBITMQ, require
from tests.waiting import ended, eventually

register_test_provider("tests.providers.acme")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test needing a server that does not answer is skipped (in CI: fails), one line each."""
    require(item)


# One namespace (database and vhost name) per test run; set it to run suites side by side.
# The vhost is kept between runs (see ``test_vhost``), so the default name carries the
# topology's revision: a change of queue types or arguments starts on a vhost of its own
# instead of failing to declare over the old queues (PRECONDITION_FAILED).
TOPOLOGY_REVISION = 2
NAMESPACE = os.environ.get("TWOWAY_TEST_NAMESPACE", f"twoway_test_t{TOPOLOGY_REVISION}")
DB_HOST = MARIADB.host
DB_NAME = NAMESPACE
DATABASE_URL = f"mysql://root:@{MARIADB.where()}/{DB_NAME}"
VHOST = NAMESPACE
AMQP_URL = f"amqp://guest:guest@{RABBITMQ.where()}/{VHOST}"
TEST_RETRY_DELAYS_MS = (200, 500, 1000)
WEBHOOK_SECRET = "whsec_twoway_test_secret"


@pytest.fixture(scope="session")
def test_database() -> str:
    conn = pymysql.connect(host=DB_HOST, port=MARIADB.port, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            cur.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4")
    finally:
        conn.close()
    asyncio.run(migrate(CrudSettings(database_url=DATABASE_URL)))
    return DATABASE_URL


def rabbitmqctl(*args: str, check: bool = True) -> str:
    """Run ``rabbitmqctl -q <args>``; its output."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], check=check, capture_output=True, text=True, timeout=120
    )
    return done.stdout.strip()


@contextlib.asynccontextmanager
async def broker_stopped() -> AsyncIterator[None]:
    """Stop the RabbitMQ app for the block; it is started again whatever happens."""
    try:
        await asyncio.to_thread(rabbitmqctl, "stop_app")
        yield
    finally:
        await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(rabbitmqctl, "await_startup")


MARIADBD = "/usr/sbin/mariadbd"


def _mariadb_answers() -> bool:
    try:
        pymysql.connect(
            host=DB_HOST, port=MARIADB.port, user="root", password="", connect_timeout=1
        ).close()
    except pymysql.err.Error:
        return False
    return True


def start_mariadb(timeout: float = 120.0) -> None:
    """Start MariaDB (if it is not running) and wait until it takes connections."""
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", MARIADBD],
        check=True,
        timeout=60,
    )
    deadline = time.monotonic() + timeout
    while not _mariadb_answers():
        if time.monotonic() > deadline:
            raise RuntimeError("MariaDB did not come back")
        time.sleep(0.1)


@contextlib.asynccontextmanager
async def database_stopped() -> AsyncIterator[None]:
    """Stop MariaDB for the block; it is started again whatever happens."""
    try:
        await asyncio.to_thread(
            subprocess.run,
            ["start-stop-daemon", "--stop", "--retry", "TERM/60/KILL/5", "--exec", MARIADBD],
            check=False,
            timeout=120,
        )
        yield
    finally:
        await asyncio.to_thread(start_mariadb)


@pytest.fixture(scope="session")
def test_vhost() -> str:
    # Kept between runs, not deleted and re-added: on RabbitMQ 3.10 a churn of quorum queues
    # being deleted and declared again can leave one "down" and the vhost answering
    # INTERNAL_ERROR. Tests purge the queues instead.
    rabbitmqctl("add_vhost", VHOST, check=False)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*", check=False)
    return AMQP_URL


@pytest.fixture
def settings(test_database: str, test_vhost: str) -> CrudSettings:
    return CrudSettings(
        database_url=test_database,
        amqp_url=test_vhost,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
        relay_poll_interval_s=0.2,
        # Off: suites run side by side on one machine. Tests of /metrics pick a free port.
        metrics_port=0,
    )


async def truncate_all() -> None:
    """Every model's table, and the rate budgets' (made by a migration, not a model): a budget
    row a worker of an earlier test answered stays busy a window long, and a day-long window
    would starve the next test's worker of the same budget."""
    conn = connections.get("default")
    for app in Tortoise.apps.values():
        for model in app.values():
            await conn.execute_script(f"DELETE FROM `{model._meta.db_table}`")
    if conn.capabilities.dialect == "mysql":  # the budget lives in MariaDB only
        for table in BUDGET_TABLES:
            await conn.execute_script(f"DELETE FROM `{table}`")


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """Tortoise on the test database, every table empty."""
    await init_db(settings.database_url.get_secret_value(), model_modules())
    await truncate_all()
    try:
        yield
    finally:
        await close_db()


def all_queue_names() -> list[str]:
    names = [UNROUTED_QUEUE]
    for work in all_work_queues():
        names += [work.name, work.dead_letter]
        names += [work.retry_queue(d) for d in TEST_RETRY_DELAYS_MS]
    return names


class Broker:
    """Test-side access to the vhost: taps on exchanges and queue inspection."""

    def __init__(self, connection: aio_pika.abc.AbstractConnection) -> None:
        self.connection = connection

    async def tap(self, exchange: str = EVENTS_EXCHANGE, key: str = "#") -> Tap:
        channel = await self.connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=key)
        return Tap(queue)

    async def count(self, queue: str) -> int:
        channel = await self.connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
            return int(declared.declaration_result.message_count or 0)
        finally:
            await channel.close()

    async def drain(
        self, queue: str, timeout: float = 0.5
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        channel = await self.connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        out: list[aio_pika.abc.AbstractIncomingMessage] = []
        while True:
            message = await q.get(no_ack=True, fail=False, timeout=timeout)
            if message is None:
                break
            out.append(message)
        await channel.close()
        return out


class Tap:
    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.messages: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def collect(
        self, count: int, timeout: float = 10.0
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Wait until ``count`` messages have arrived in total; return them all."""

        async def arrived() -> bool:
            while len(self.messages) < count:
                message = await self.queue.get(no_ack=True, fail=False, timeout=1)
                if message is None:
                    return False
                self.messages.append(message)
            return True

        await eventually(arrived, timeout, what=f"{count} messages on the tap")
        return self.messages

    async def quiet(self, seconds: float = 0.5) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Collect whatever else arrives within ``seconds``."""
        await asyncio.sleep(seconds)  # scenario: the time anything more may take to arrive
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            self.messages.append(message)
        return self.messages


@pytest.fixture
async def broker(test_vhost: str) -> AsyncIterator[Broker]:
    """A connection to the test vhost, the topology declared and every twoway queue empty."""
    connection = await aio_pika.connect(test_vhost)
    channel = await connection.channel()
    # Every work queue, Salesforce's too: each test empties them all; a system runs its own.
    await declare_topology(channel, TEST_RETRY_DELAYS_MS, all_work_queues())
    for name in all_queue_names():
        queue = await channel.get_queue(name, ensure=False)
        await queue.purge()
    await channel.close()
    try:
        yield Broker(connection)
    finally:
        await connection.close()
        # The test's services are gone; their broker connections must be too before the next
        # test empties the queues: a delivery a lingering consumer holds unacked returns to its
        # queue only when that consumer goes, and returned after the next test's purge it was
        # handled there, for an entity of this test (an ``external_links`` row without its
        # entity: test_adoption_interleavings, twice in ten full runs).
        await eventually(
            lambda: consumers_gone(test_vhost),
            timeout=30,
            what="every consumer of this test's services gone from the work queues",
        )


async def consumers_gone(url: str) -> bool:
    """Whether no work queue has a consumer."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        held = []
        for work in all_work_queues():
            queue = await channel.declare_queue(work.name, passive=True)
            if queue.declaration_result.consumer_count:
                held.append(work.name)
        return not held
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def serve(
    app: Starlette, http: HttpServiceSettings | None = None, port: int = 0
) -> AsyncIterator[str]:
    """Run ``app`` as the services run (``server_config``) on a loopback port (``port``, else a
    free one); yield its base URL. ``http``: the connection limits (defaults unless given)."""
    config = server_config(app, "127.0.0.1", port, http or HttpServiceSettings())
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before it started")
        return server.started

    await eventually(started, interval=0.01, what="the server started")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await ended(task, 60.0, "the server's shutdown")
        task.result()


@pytest.fixture
async def fake_stripe(request: pytest.FixtureRequest) -> AsyncIterator[FakeStripe]:
    """localstripe in-process; ``indirect`` parametrization with True makes it Stripe-like
    (events carry ``request`` and ``previous_attributes``, as real Stripe's do)."""
    fake = FakeStripe(stripe_like=bool(getattr(request, "param", False)))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def salesforce_fake_process() -> AsyncIterator[FakeSalesforceProcess]:
    """The fake Salesforce (services/salesforce_sync/fake) as a child process, for the session."""
    async with running_fake_salesforce() as process:
        yield process


@pytest.fixture
async def salesforce_fake(
    salesforce_fake_process: FakeSalesforceProcess,
) -> AsyncIterator[SalesforceFake]:
    """The fake Salesforce, reset: no contacts, faults, usage, sessions or outbound queue, and
    its launch configuration (no outbound URL)."""
    async with httpx.AsyncClient(timeout=10) as http:
        fake = SalesforceFake(salesforce_fake_process, http)
        await fake.reset(config=True)
        yield fake


async def api_key(scope: Scope = Scope.WRITE) -> str:
    """A new key for the CRUD API, written to the test database (Tortoise must be open)."""
    _, key = await create_key(scope, name="tests")
    return key


@contextlib.asynccontextmanager
async def api_client(
    url: str, scope: Scope | None = Scope.WRITE
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the CRUD API at ``url``, sending a new key of ``scope`` (None: none)."""
    headers = {"Authorization": f"Bearer {await api_key(scope)}"} if scope else {}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:
        yield client


@pytest.fixture
async def crud(
    settings: CrudSettings, db: None, broker: Broker
) -> AsyncIterator[httpx.AsyncClient]:
    """The CRUD service (API + relay) on a real port; a client with a write key pointed at it."""
    async with crud_with(settings, Roles(own_database=False)) as client:
        yield client


@pytest.fixture
def gateway_settings(test_vhost: str) -> GatewaySettings:
    return GatewaySettings(
        amqp_url=test_vhost,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
        metrics_port=0,
    )


@pytest.fixture
def gateway_providers(test_vhost: str) -> dict[Provider, ProviderSettings]:
    """The settings of the providers the gateway serves (Stripe's: its webhook secret)."""
    stripe = StripeSettings(
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_mode="test",
        amqp_url=test_vhost,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
    )
    return {STRIPE: stripe}


@pytest.fixture
async def gateway(
    gateway_settings: GatewaySettings,
    gateway_providers: dict[Provider, ProviderSettings],
    broker: Broker,
) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook gateway on a real port, publishing to the test vhost."""
    app = create_gateway_app(gateway_settings, providers=gateway_providers)
    async with (
        serve(app, gateway_settings) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def crud_with(settings: CrudSettings, roles: Roles) -> AsyncIterator[httpx.AsyncClient]:
    """The CRUD service with ``roles`` on a real port; a client with a write key pointed at it.

    Its ``/metrics`` is on a port of its own, at ``metrics_url(client)`` (tests/scrape.py).
    """
    metrics_port = settings.metrics_port or free_port()
    app = create_app(settings.model_copy(update={"metrics_port": metrics_port}), roles)
    async with serve(app) as url, api_client(url) as client:
        # Declare the topology now, so a test's first publish already finds every queue.
        await app.state.runtime.bus.connect()
        client.app = app  # type: ignore[attr-defined]
        client.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def crud_inbound(
    settings: CrudSettings, db: None, broker: Broker
) -> AsyncIterator[httpx.AsyncClient]:
    """API + relay + inbound consumer."""
    async with crud_with(settings, Roles(own_database=False, inbound=True)) as client:
        yield client


@pytest.fixture
async def crud_consumers(
    settings: CrudSettings, db: None, broker: Broker
) -> AsyncIterator[httpx.AsyncClient]:
    """API + relay + sync-results consumer."""
    async with crud_with(settings, Roles(own_database=False, sync_results=True)) as client:
        yield client
