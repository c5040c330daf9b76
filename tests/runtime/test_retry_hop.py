"""The retry hop is at-least-once: what waits in a delay tier reaches its work queue, even
when the broker restarts while it waits.

A wait queue dead-letters an expired message to its work queue. Classic queues do that at most
once (a work queue that cannot take it then loses it); quorum wait queues with the at-least-once
strategy keep it until the work queue confirmed it. This stops the real broker
(``rabbitmqctl stop_app``) and always starts it again.
"""

from __future__ import annotations

import aio_pika
import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.bus import OutgoingMessage
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from tests.conftest import (
    AMQP_URL,
    TEST_RETRY_DELAYS_MS,
    VHOST,
    Broker,
    broker_stopped,
    rabbitmqctl,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.rabbitmq, pytest.mark.fault]

WORK = STRIPE_SYNC_QUEUE
COUNT = 200


def queue_facts(name: str) -> str:
    """The type and arguments RabbitMQ reports for queue ``name`` of the test vhost."""
    listing = rabbitmqctl("list_queues", "-p", VHOST, "name", "type", "arguments")
    return next(line for line in listing.splitlines() if line.split("\t")[0] == name)


async def test_messages_waiting_in_a_delay_tier_all_arrive_across_a_broker_restart(
    broker: Broker, test_vhost: str
) -> None:
    wait = WORK.retry_queue(TEST_RETRY_DELAYS_MS[-1])
    facts = queue_facts(wait)
    assert "quorum" in facts and "at-least-once" in facts, facts

    bus = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
    try:
        ids = [f"wait-{i}" for i in range(COUNT)]
        results = await bus.publish("", [OutgoingMessage(wait, b"{}", i) for i in ids])
        assert results == [None] * COUNT
    finally:
        await bus.close()
    # Stopping takes longer than the tier's delay: the messages expire while the broker goes
    # down or comes back up, when the work queue may not be able to take them yet.
    async with broker_stopped():
        pass

    # The fixture's broker connection died with the broker: read through a new one.
    connection = await aio_pika.connect(AMQP_URL)
    try:
        after = Broker(connection)

        async def all_moved() -> bool:
            return await after.count(WORK.name) == COUNT and await after.count(wait) == 0

        assert await eventually(all_moved, timeout=60), (
            await after.count(WORK.name),
            await after.count(wait),
        )
        arrived = {m.message_id for m in await after.drain(WORK.name)}
    finally:
        await connection.close()
    assert arrived == set(ids)
