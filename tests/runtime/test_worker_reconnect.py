"""A worker whose broker connection is closed under it comes back and keeps consuming."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.bus import Delivery, OutgoingMessage
from services.runtime.worker import Worker
from shared.topology import STRIPE_SYNC_QUEUE
from tests.conftest import TEST_RETRY_DELAYS_MS, VHOST, Broker, rabbitmqctl

pytestmark = [pytest.mark.rabbitmq]


async def test_worker_reconnects_after_the_broker_drops_its_connection(
    broker: Broker, test_vhost: str
) -> None:
    seen: list[str] = []

    async def record(delivery: Delivery) -> None:
        seen.append(delivery.message_id)

    publisher = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
    consumer_bus = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
    worker = Worker(consumer_bus, STRIPE_SYNC_QUEUE, record, TEST_RETRY_DELAYS_MS)
    task = asyncio.create_task(worker.run())
    try:
        await publisher.publish("twoway.events", [OutgoingMessage("customer.updated", b"{}", "a")])
        async with asyncio.timeout(10):
            while "a" not in seen:  # noqa: ASYNC110 - another task fills it
                await asyncio.sleep(0.02)
        # The broker drops every connection of the vhost: the worker's, the publisher's, ours.
        await asyncio.to_thread(rabbitmqctl, "close_all_connections", "-p", VHOST, "test")
        await asyncio.sleep(0.5)
        results = await publisher.publish(
            "twoway.events", [OutgoingMessage("customer.updated", b"{}", "b")]
        )
        if results != [None]:  # the publisher noticed the drop only now: once more
            results = await publisher.publish(
                "twoway.events", [OutgoingMessage("customer.updated", b"{}", "b")]
            )
        assert results == [None]
        async with asyncio.timeout(15):
            while "b" not in seen:  # noqa: ASYNC110 - another task fills it
                await asyncio.sleep(0.05)
        assert not task.done(), "the worker gave up instead of reconnecting"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.close()
        await consumer_bus.close()
