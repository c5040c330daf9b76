"""The inbound direction with every piece running: localstripe -> gateway -> RabbitMQ -> CRUD."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
import httpx
import pytest

from shared.topology import COMMANDS_EXCHANGE, HEADER_REASON, INBOUND_QUEUE
from tests.conftest import WEBHOOK_SECRET, Broker
from tests.crud.inbound_helpers import inbox_outcomes, upsert
from tests.fakes.stripe_fake import FakeStripe
from tests.waiting import eventually
from tests.webhook_gateway.events import webhook_url
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]
T = TypeVar("T")


async def by_email(crud: httpx.AsyncClient, email: str) -> dict[str, Any] | None:
    data = (await crud.get("/customers")).json()["data"]
    return next((c for c in data if c["email"] == email), None)


async def test_created_changed_deleted_in_stripe_shows_through_the_api(
    crud_inbound: httpx.AsyncClient, gateway: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    crud = crud_inbound
    await fake_stripe.register_webhook(webhook_url(gateway), WEBHOOK_SECRET)
    async with fake_stripe.client() as stripe:
        created = await stripe.v1.customers.create_async(
            params={"name": "Grace", "email": "grace@example.com", "metadata": {"team": "navy"}}
        )
        customer = await eventually(lambda: by_email(crud, "grace@example.com"))
        assert customer["name"] == "Grace" and customer["metadata"] == {"team": "navy"}
        assert customer["version"] == 1

        await stripe.v1.customers.update_async(
            created.id, params={"name": "Grace Hopper", "phone": "+1 555 0100"}
        )

        async def renamed() -> dict[str, Any] | None:
            got = (await crud.get(f"/customers/{customer['id']}")).json()
            return got if got["name"] == "Grace Hopper" else None

        changed = await eventually(renamed)
        assert changed["phone"] == "+1 555 0100" and changed["version"] == 2

        await stripe.v1.customers.delete_async(created.id)

        async def gone() -> bool:
            return (await crud.get(f"/customers/{customer['id']}")).status_code == 404

        await eventually(gone)
    await fake_stripe.settle()
    assert {r.status_code for r in fake_stripe.deliveries} == {200}  # type: ignore[union-attr]
    assert await inbox_outcomes() == ["applied", "applied", "applied"]


async def test_shuffled_and_repeated_deliveries_converge(
    crud_inbound: httpx.AsyncClient, gateway: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    await fake_stripe.register_webhook(webhook_url(gateway), WEBHOOK_SECRET)
    fake_stripe.webhook_mode = "capture"
    async with fake_stripe.client() as stripe:
        created = await stripe.v1.customers.create_async(
            params={"name": "v0", "email": "shuffle@example.com"}
        )
        for i in range(1, 5):
            await stripe.v1.customers.update_async(created.id, params={"name": f"v{i}"})
    events = fake_stripe.captured
    # localstripe stamps all five in the same second; Stripe's would be seconds apart.
    for offset, event in enumerate(events):
        event["created"] += offset
    deliveries = events + events[1:3]
    random.Random(7).shuffle(deliveries)
    for event in deliveries:
        response = await fake_stripe.deliver(event)
        assert response is not None and response.status_code == 200

    async def final() -> dict[str, Any] | None:
        got = await by_email(crud_inbound, "shuffle@example.com")
        return got if got and got["name"] == "v4" else None

    customer = await eventually(final)
    # Every event handled (an inbox row each): nothing is left in flight to change it later.
    outcomes = await eventually(
        lambda: _when(inbox_outcomes(), lambda rows: len(rows) == len(events))
    )
    assert (await by_email(crud_inbound, "shuffle@example.com")) == customer
    assert outcomes.count("applied") == customer["version"]


async def _when(rows: Awaitable[list[str]], ready: Callable[[list[str]], bool]) -> list[str] | None:
    value = await rows
    return value if ready(value) else None


async def publish_raw(broker: Broker, body: bytes, key: str) -> None:
    channel = await broker.connection.channel()
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    await exchange.publish(aio_pika.Message(body, message_id="m-1"), routing_key=key)
    await channel.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed"),
        (b'{"type": "inbound.customer.upsert"}', "malformed"),
        (upsert(email=None).model_dump_json().encode(), "unrepresentable"),
    ],
)
async def test_commands_that_can_never_apply_are_dead_lettered_at_once(
    crud_inbound: httpx.AsyncClient, broker: Broker, body: bytes, reason: str
) -> None:
    await publish_raw(broker, body, "inbound.stripe.customer.upsert")
    count = await eventually(lambda: _positive(broker.count(INBOUND_QUEUE.dead_letter)))
    assert count == 1
    (message,) = await broker.drain(INBOUND_QUEUE.dead_letter)
    assert message.headers[HEADER_REASON] == reason and message.body == body
    assert (await crud_inbound.get("/customers")).json()["data"] == []


async def _positive(count: Awaitable[int]) -> int | None:
    value = await count
    return value or None
