"""RabbitMQ stopped while Stripe delivers webhooks: every 2xx was handed on, every other
delivery is a 503 that Stripe's redelivery turns into a 2xx once the broker is back.

This stops the real broker (``rabbitmqctl stop_app``) and always starts it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import httpx
import pytest

from shared.topology import INBOUND_QUEUE
from tests.conftest import AMQP_URL, Broker, broker_stopped
from tests.waiting import eventually
from tests.webhook_gateway.events import customer_event, post_signed

pytestmark = [pytest.mark.rabbitmq, pytest.mark.fault]


async def deliver_all(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> list[int]:
    """Deliver the events concurrently, the way Stripe does; their status codes."""
    responses = await asyncio.gather(*(post_signed(client, e) for e in events))
    return [r.status_code for r in responses]


async def redeliver_until_accepted(client: httpx.AsyncClient, event: dict[str, Any]) -> None:
    """Stripe's redelivery, compressed: again until 2xx (the bound only ends a failing test)."""

    async def accepted() -> bool:
        status = (await post_signed(client, event)).status_code
        assert status in (200, 503), f"a delivery during recovery answered {status}"
        return status == 200

    await eventually(accepted, timeout=30, interval=0.1, what=f"{event['id']} accepted again")


async def test_deliveries_during_an_outage_are_503_and_none_is_lost(
    gateway: httpx.AsyncClient, broker: Broker
) -> None:
    before = [customer_event(customer_id=f"cus_before{i}") for i in range(20)]
    assert await deliver_all(gateway, before) == [200] * 20
    during = [customer_event(customer_id=f"cus_during{i}") for i in range(10)]
    async with broker_stopped():
        assert await deliver_all(gateway, during) == [503] * 10
        assert (await gateway.get("/readyz")).status_code == 503
    for event in during:
        await redeliver_until_accepted(gateway, event)
    after = [customer_event(customer_id=f"cus_after{i}") for i in range(20)]
    assert await deliver_all(gateway, after) == [200] * 20

    # The fixture's broker connection died with the broker: read through a new one.
    connection = await aio_pika.connect(AMQP_URL)
    try:
        messages = await Broker(connection).drain(INBOUND_QUEUE.name, timeout=1)
    finally:
        await connection.close()
    arrived = {m.message_id for m in messages}
    expected = {f"stripe:{e['id']}" for e in before + during + after}
    assert arrived == expected
