"""Sync status through the API: providers' results (``sync.result`` events) as users see them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.crud.settings import CrudSettings
from services.runtime.amqp import AmqpBus
from services.runtime.bus import OutgoingMessage
from services.runtime.links.models import ExternalLink
from services.stripe_sync.names import STRIPE
from shared.events import SyncResultEvent, dump_event, event_routing_key
from shared.kinds import EntityKind
from shared.topology import EVENTS_EXCHANGE, SYNC_RESULTS_QUEUE
from tests.conftest import Broker
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


@pytest.fixture
async def results_bus(settings: CrudSettings, broker: Broker) -> AsyncIterator[AmqpBus]:
    bus = AmqpBus(settings.amqp_url.get_secret_value(), settings.retry_delays_ms)
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.close()


async def report(bus: AmqpBus, broker: Broker, *results: SyncResultEvent) -> None:
    """Publish results one by one, each once the CRUD service has recorded the previous one."""
    for r in results:
        key = {"entity": r.entity.value, "entity_id": r.entity_id, "provider": r.provider.value}
        before = await ExternalLink.get_or_none(**key)
        message = OutgoingMessage(event_routing_key(r), dump_event(r), str(r.event_id))
        assert await bus.publish(EVENTS_EXCHANGE, [message]) == [None]
        await eventually(functools.partial(touched, key, before), what=f"result {r} recorded")


async def touched(key: dict[str, str], before: ExternalLink | None) -> bool:
    """Whether the link row changed since ``before``: every result, stale or not, touches it."""
    after = await ExternalLink.get_or_none(**key)
    return after is not None and (before is None or after.updated_at != before.updated_at)


def result(
    entity_id: str, version: int, status: str, external_id: str | None = None, error: str = ""
) -> SyncResultEvent:
    return SyncResultEvent(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        type="sync.result",
        provider=STRIPE,
        entity=EntityKind.CUSTOMER,
        entity_id=entity_id,
        version=version,
        status=status,  # type: ignore[arg-type]
        external_id=external_id,
        error=error or None,
    )


async def create(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post("/customers", json={"name": "N", "email": email})
    assert response.status_code == 201
    return dict(response.json())


async def stripe_sync(client: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/customers/{customer_id}")).json()["sync"]["stripe"])


async def ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/customers", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


async def test_new_customer_is_pending_without_any_result(
    crud_consumers: httpx.AsyncClient,
) -> None:
    customer = await create(crud_consumers, "a@example.com")
    assert customer["sync"] == {
        "stripe": {
            "status": "pending",
            "external_id": None,
            "synced_version": None,
            "last_error": None,
            "note": None,
            "updated_at": None,
        }
    }
    assert await ids(crud_consumers, sync_status="pending") == [customer["id"]]


async def test_results_drive_the_status_and_the_filter(
    crud_consumers: httpx.AsyncClient, results_bus: AmqpBus, broker: Broker
) -> None:
    client = crud_consumers
    a = (await create(client, "a@example.com"))["id"]
    b = (await create(client, "b@example.com"))["id"]
    c = (await create(client, "c@example.com"))["id"]
    await report(
        results_bus,
        broker,
        result(a, 1, "synced", "cus_a"),
        result(b, 1, "failed", error="stripe 400: Invalid email"),
    )
    assert (await stripe_sync(client, a))["status"] == "synced"
    assert (await stripe_sync(client, a))["external_id"] == "cus_a"
    failed = await stripe_sync(client, b)
    assert failed["status"] == "failed" and failed["last_error"] == "stripe 400: Invalid email"
    assert await ids(client, sync_status="synced") == [a]
    assert await ids(client, sync_status="failed") == [b]
    assert await ids(client, sync_status="pending") == [c]

    # A newer local version is pending again until its own result arrives.
    await client.patch(f"/customers/{a}", json={"name": "changed"})
    assert (await stripe_sync(client, a))["status"] == "pending"
    assert sorted(await ids(client, sync_status="pending")) == sorted([a, c])


async def test_results_arriving_out_of_order_keep_the_newest_truth(
    crud_consumers: httpx.AsyncClient, results_bus: AmqpBus, broker: Broker
) -> None:
    client = crud_consumers
    a = (await create(client, "a@example.com"))["id"]
    await client.patch(f"/customers/{a}", json={"name": "v2"})
    # v2 synced first; then a stale failure of v1 and a stale skip of v1 must change nothing.
    await report(
        results_bus,
        broker,
        result(a, 2, "synced", "cus_a"),
        result(a, 1, "failed", error="old"),
        result(a, 1, "skipped", "cus_a"),
    )
    sync = await stripe_sync(client, a)
    assert (sync["status"], sync["synced_version"], sync["last_error"]) == ("synced", 2, None)

    # A failure of v3 shows; a stale skip of v2 must not clear it; a skip of v3 does.
    await client.patch(f"/customers/{a}", json={"name": "v3"})
    await report(results_bus, broker, result(a, 3, "failed", error="boom"))
    await report(results_bus, broker, result(a, 2, "skipped", "cus_a"))
    assert (await stripe_sync(client, a))["status"] == "failed"
    await report(results_bus, broker, result(a, 3, "skipped", "cus_a"))
    assert (await stripe_sync(client, a))["status"] == "synced"


async def test_sync_status_filter_is_validated(crud_consumers: httpx.AsyncClient) -> None:
    response = await crud_consumers.get("/customers", params={"sync_status": "stuck"})
    assert response.status_code == 422
    assert "sync_status" in response.json()["error"]["fields"]


async def test_malformed_result_is_dead_lettered(
    crud_consumers: httpx.AsyncClient, results_bus: AmqpBus, broker: Broker
) -> None:
    message = OutgoingMessage("sync.stripe.customer.synced", b"{nope", "m1")
    assert await results_bus.publish(EVENTS_EXCHANGE, [message]) == [None]
    dead = await eventually(
        lambda: broker.drain(SYNC_RESULTS_QUEUE.dead_letter, 0.05), what="a dead letter"
    )
    assert [m.body for m in dead] == [b"{nope"]
