"""Relay throughput vs a bare aio-pika loop (confirms, 100 in flight), same broker, same messages.

    python bench/relay_throughput.py [N]

Both sides publish N persistent messages to ``twoway.events`` (routed to the stripe_sync quorum
queue) with publisher confirms and ``mandatory``. The relay also claims the rows from MariaDB
and marks them published. Prints msg/s for each and the ratio (target >= 0.7).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import aio_pika
from tortoise import connections

from bench._common import ensure_vhost, fresh_database
from services.crud.entities import model_modules
from services.crud.outbox.relay import Relay, RelayConfig
from services.crud.outbox.writer import OutboxSignal
from services.crud.settings import CrudSettings
from services.migrate import migrate
from services.runtime.amqp import AmqpBus
from services.runtime.db import close_db, init_db
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from shared.topology import DEFAULT_RETRY_DELAYS_MS, EVENTS_EXCHANGE


def payloads(n: int) -> list[tuple[str, str, str]]:
    out = []
    for i in range(n):
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "schema_version": 1,
                "event_id": event_id,
                "type": "customer.created",
                "entity": "customer",
                "entity_id": f"c{i}",
                "version": 1,
                "origin": "app",
                "occurred_at": "2026-01-01T00:00:00Z",
                "data": {
                    "id": f"c{i}",
                    "name": "Bench Customer",
                    "email": f"c{i}@example.com",
                    "phone": None,
                    "metadata": {"plan": "pro"},
                    "version": 1,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                },
            }
        )
        out.append((event_id, f"c{i}", body))
    return out


async def purge(url: str) -> None:
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    queue = await channel.get_queue(STRIPE_SYNC_QUEUE.name, ensure=False)
    await queue.purge()
    await connection.close()


async def bare_loop(url: str, rows: list[tuple[str, str, str]]) -> float:
    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(EVENTS_EXCHANGE)
    in_flight = asyncio.Semaphore(100)

    async def one(event_id: str, body: str) -> None:
        async with in_flight:
            await exchange.publish(
                aio_pika.Message(
                    body.encode(),
                    message_id=event_id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="customer.created",
                mandatory=True,
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(e, b) for e, _, b in rows))
    elapsed = time.perf_counter() - start
    await connection.close()
    return len(rows) / elapsed


async def relay_run(url: str, rows: list[tuple[str, str, str]]) -> float:
    conn = connections.get("default")
    await conn.execute_script("DELETE FROM outbox")
    await conn.execute_many(
        "INSERT INTO outbox (event_id, routing_key, entity, entity_id, version, payload, "
        "created_at) VALUES (%s, 'customer.created', 'customer', %s, 1, %s, NOW(6))",
        [list(r) for r in rows],
    )
    bus = AmqpBus(url, DEFAULT_RETRY_DELAYS_MS)
    await bus.connect()
    relay = Relay(bus, OutboxSignal(), RelayConfig())
    start = time.perf_counter()
    while await relay.relay_once():
        pass
    elapsed = time.perf_counter() - start
    await bus.close()
    assert relay.stats.published == len(rows), relay.stats
    return len(rows) / elapsed


async def main(n: int, db_url: str, amqp_url: str) -> None:
    settings = CrudSettings(database_url=db_url, amqp_url=amqp_url)
    await migrate(settings)
    await init_db(db_url, model_modules())
    bus = AmqpBus(amqp_url, DEFAULT_RETRY_DELAYS_MS)
    await bus.connect()  # declares the topology
    await bus.close()
    rows = payloads(n)
    await purge(amqp_url)
    bare, relayed = [], []
    for _ in range(3):
        bare.append(await bare_loop(amqp_url, rows))
        await purge(amqp_url)
        relayed.append(await relay_run(amqp_url, rows))
        await purge(amqp_url)
    await close_db()
    b, r = max(bare), max(relayed)
    print(f"messages per run: {n}")
    print(
        f"bare aio-pika loop (100 in flight): {b:8.0f} msg/s  (runs: "
        f"{', '.join(f'{x:.0f}' for x in bare)})"
    )
    print(
        f"twoway relay (claim+publish+mark):  {r:8.0f} msg/s  (runs: "
        f"{', '.join(f'{x:.0f}' for x in relayed)})"
    )
    print(f"ratio relay/bare: {r / b:.2f}  (target >= 0.70)")


if __name__ == "__main__":
    asyncio.run(
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000, fresh_database(), ensure_vhost())
    )
