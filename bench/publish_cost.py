"""CPU per confirmed publish: twoway's bus (its confirm publisher) vs aio-pika, side by side.

    python -m bench.publish_cost [N]

Both publish N persistent, mandatory messages of a webhook command's size to
``twoway.commands`` (routed to the inbound quorum queue) with publisher confirms, 32 in flight,
one at a time per caller, as the gateway does under load. Prints msg/s and this process's CPU
time per message for each (3 interleaved rounds, best shown) and the CPU ratio.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

import aio_pika

from bench._common import AMQP_URL, ensure_vhost
from services.runtime.amqp import AmqpBus
from services.runtime.bus import OutgoingMessage
from shared.topology import COMMANDS_EXCHANGE, DEFAULT_RETRY_DELAYS_MS, INBOUND_QUEUE

IN_FLIGHT = 32
ROUTING_KEY = "inbound.stripe.customer.upsert"
BODY = b'{"type": "customer.upsert", "data": {"name": "Bench Customer"}}'.ljust(420, b" ")

Publish = Callable[[int], Awaitable[None]]


async def measure(publish: Publish, n: int) -> tuple[float, float]:
    """(messages per second, CPU microseconds per message) for n publishes."""
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> None:
        async with slots:
            await publish(i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return n / wall, 1e6 * cpu / n


async def main(n: int) -> None:
    bus = AmqpBus(AMQP_URL, DEFAULT_RETRY_DELAYS_MS)
    await bus.connect()
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)

    async def via_bus(i: int) -> None:
        message = OutgoingMessage(ROUTING_KEY, BODY, f"bench-{i}")
        [result] = await bus.publish(COMMANDS_EXCHANGE, [message])
        assert result is None, result

    async def via_aio_pika(i: int) -> None:
        message = aio_pika.Message(
            BODY,
            message_id=f"bench-{i}",
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, ROUTING_KEY, mandatory=True)

    sides: dict[str, Publish] = {"aio-pika (confirms)": via_aio_pika, "twoway bus": via_bus}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    try:
        for _ in range(3):
            for name, publish in sides.items():
                runs[name].append(await measure(publish, n))
                queue = await channel.get_queue(INBOUND_QUEUE.name, ensure=False)
                await queue.purge()
    finally:
        await connection.close()
        await bus.close()
    best = {name: min(r, key=lambda run: run[1]) for name, r in runs.items()}
    print(f"messages per run: {n}, {IN_FLIGHT} in flight, body {len(BODY)} bytes")
    for name, (rate, cpu) in best.items():
        print(f"{name:20s} {rate:8.0f} msg/s   {cpu:6.1f} us CPU per message")
    ratio = best["twoway bus"][1] / best["aio-pika (confirms)"][1]
    print(f"CPU per message, twoway bus / aio-pika: {ratio:.2f}")


if __name__ == "__main__":
    ensure_vhost()
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
