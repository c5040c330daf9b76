"""RabbitMQ stopped while the API takes writes: nothing is lost when it returns.

This stops the real broker (``rabbitmqctl stop_app``) and always starts it again.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Broker, broker_stopped
from tests.crud.test_outbox import all_published, customer_events
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.fault]


async def test_writes_during_a_broker_outage_all_arrive_after_it_returns(
    crud: httpx.AsyncClient, broker: Broker
) -> None:
    before = (await crud.post("/customers", json={"name": "a", "email": "before@x.io"})).json()
    assert await eventually(all_published)
    ids = [before["id"]]
    async with broker_stopped():
        for i in range(20):
            response = await crud.post("/customers", json={"name": "d", "email": f"d{i}@x.io"})
            assert response.status_code == 201, "the API keeps taking writes"
            ids.append(response.json()["id"])
        ready = await crud.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
        assert not await all_published()
    assert await eventually(all_published, timeout=60)
    assert (await crud.get("/readyz")).status_code == 200
    # The test's own broker connection died with the broker: read through a new one.
    import aio_pika

    from tests.conftest import AMQP_URL

    connection = await aio_pika.connect(AMQP_URL)
    try:
        messages = await Broker(connection).drain("twoway.stripe_sync", timeout=1)
    finally:
        await connection.close()
    arrived = {e.entity_id for e in customer_events(messages)}
    assert set(ids) <= arrived
