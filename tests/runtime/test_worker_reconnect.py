"""A worker whose broker connection is closed under it comes back and keeps consuming."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.bus import Delivery, OutgoingMessage
from services.runtime.worker import Worker
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from tests.conftest import TEST_RETRY_DELAYS_MS, VHOST, Broker, rabbitmqctl
from tests.waiting import eventually

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
        await eventually(lambda: "a" in seen, what="the worker consuming a")
        # The broker drops every connection of the vhost: the worker's, the publisher's, ours.
        await asyncio.to_thread(rabbitmqctl, "close_all_connections", "-p", VHOST, "test")
        await eventually(lambda: not publisher.connected, what="the publisher seeing the drop")
        results = await publisher.publish(
            "twoway.events", [OutgoingMessage("customer.updated", b"{}", "b")]
        )
        assert results == [None]  # it reconnects first: it knew of the drop
        await eventually(lambda: "b" in seen, timeout=15, what="the reconnected worker consuming b")
        assert not task.done(), "the worker gave up instead of reconnecting"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.close()
        await consumer_bus.close()
