"""MariaDB stopped and started while clients write.

Clients keep creating customers throughout. While the database is down, writes get 503 with a
JSON error and ``Retry-After`` (never a 500, never a dropped connection) and ``/readyz`` says
503; once it is back, ``/readyz`` says 200 again, and every write that got a 201 is kept and
reaches Stripe. The test stops the real MariaDB and always starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aio_pika
import httpx
import pytest

from services.crud.settings import CrudSettings
from services.runtime.amqp import declare_topology
from services.runtime.providers import all_work_queues
from services.webhook_gateway.settings import GatewaySettings
from tests.conftest import Broker, database_stopped
from tests.e2e.conftest import System, stripe_state
from tests.waiting import eventually

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.fault,
]

# Retry tiers long enough (31.5 s in all) to outlast the outage: a message whose handling
# failed while the database was down must not run out of tiers before it is back.
OUTAGE_RETRY_DELAYS_MS = (500, 1000, 2000, 4000, 8000, 16000)
WRITERS = 4


@pytest.fixture
def settings(settings: CrudSettings) -> CrudSettings:
    return settings.model_copy(update={"retry_delays_ms": OUTAGE_RETRY_DELAYS_MS})


@pytest.fixture
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    return gateway_settings.model_copy(update={"retry_delays_ms": OUTAGE_RETRY_DELAYS_MS})


@pytest.fixture(autouse=True)
async def empty_outage_tiers(broker: Broker) -> AsyncIterator[None]:
    async def purge() -> None:
        channel = await broker.connection.channel()
        await declare_topology(channel, OUTAGE_RETRY_DELAYS_MS, all_work_queues())
        for work in all_work_queues():
            for delay in OUTAGE_RETRY_DELAYS_MS:
                await (await channel.get_queue(work.retry_queue(delay), ensure=False)).purge()
        await channel.close()

    await purge()
    yield
    with contextlib.suppress(aio_pika.exceptions.AMQPError):
        await purge()


@dataclass
class Writes:
    created: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def write_until(
    api: httpx.AsyncClient, stop: asyncio.Event, writer: int, out: Writes
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        body = {"name": f"W{writer}", "email": f"w{writer}-{n}@example.com"}
        try:
            response = await api.post("/customers", json=body)
        except httpx.TransportError as exc:
            out.problems.append(f"connection dropped: {exc!r}")
            continue
        out.statuses.append(response.status_code)
        if response.status_code == 201:
            out.created.append(response.json()["id"])
        elif response.status_code == 503:
            error = response.json()["error"]
            if error["code"] != "unavailable" or "retry-after" not in response.headers:
                out.problems.append(f"bad 503: {response.headers} {response.text}")
            await asyncio.sleep(0.05)  # scenario: a client told to retry pauses first
        else:
            out.problems.append(f"{response.status_code}: {response.text[:300]}")


async def readiness(api: httpx.AsyncClient) -> int:
    return (await api.get("/readyz")).status_code


async def test_writes_during_a_database_restart_get_503_and_nothing_acknowledged_is_lost(
    system: System,
) -> None:
    api = system.api
    writes = Writes()
    stop = asyncio.Event()
    writers = [asyncio.create_task(write_until(api, stop, w, writes)) for w in range(WRITERS)]
    seen_ready: list[int] = []
    try:
        assert await eventually(lambda: _some(writes), timeout=10)
        start = len(writes.statuses)
        async with database_stopped():
            seen_ready.append(await readiness(api))
            assert await eventually(lambda: _refused_since(writes, start)), writes
        assert await eventually(lambda: _back(api, seen_ready), timeout=60)
        created_before = len(writes.created)
        assert await eventually(lambda: _some(writes, more_than=created_before), timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*writers, return_exceptions=True)

    assert writes.problems == []
    assert set(writes.statuses) == {201, 503}
    assert seen_ready[0] == 503 and seen_ready[-1] == 200

    await system.quiet(timeout=90)
    for customer_id in writes.created:
        got = await api.get(f"/customers/{customer_id}")
        assert got.status_code == 200, (customer_id, got.text)
        customer = got.json()
        assert customer["sync"]["stripe"]["status"] == "synced", customer
        in_stripe = stripe_state(customer["sync"]["stripe"]["external_id"])
        assert in_stripe["email"] == customer["email"]
        assert in_stripe["metadata"]["twoway_id"] == customer_id


async def _some(writes: Writes, more_than: int = 0) -> bool:
    return len(writes.created) > more_than


async def _refused_since(writes: Writes, start: int) -> bool:
    return 503 in writes.statuses[start:]


async def _back(api: httpx.AsyncClient, seen: list[int]) -> bool:
    seen.append(await readiness(api))
    return seen[-1] == 200
