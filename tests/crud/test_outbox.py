"""The transactional outbox and its relay, on real MariaDB and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

import httpx
import pytest
from tortoise import connections

from services.crud.app import make_bus
from services.crud.customers.slice import SLICE as CUSTOMERS
from services.crud.outbox.relay import Relay, RelayConfig
from services.crud.outbox.writer import OutboxSignal
from services.crud.records import Duplicate, EntityService
from services.crud.settings import CrudSettings
from services.runtime.bus import UnroutableError
from shared.events import EntityEvent, parse_event
from tests.conftest import Broker
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def unpublished() -> int:
    rows = await connections.get("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL"
    )
    return int(rows[0]["n"])


async def all_published() -> bool:
    return await unpublished() == 0


def customer_events(messages: list[Any]) -> list[EntityEvent]:
    events = [parse_event(m.body) for m in messages]
    return [e for e in events if isinstance(e, EntityEvent)]


async def test_every_api_write_reaches_the_exchange_as_a_versioned_envelope(
    crud: httpx.AsyncClient, broker: Broker
) -> None:
    tap = await broker.tap()
    created = (await crud.post("/customers", json={"name": "A", "email": "a@x.io"})).json()
    await crud.patch(f"/customers/{created['id']}", json={"name": "B"})
    await crud.delete(f"/customers/{created['id']}", headers={"If-Match": '"2"'})
    messages = await tap.collect(3)
    assert [m.routing_key for m in messages] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    events = customer_events(messages)
    assert [e.version for e in events] == [1, 2, 3]
    assert all(e.origin == "app" and e.entity_id == created["id"] for e in events)
    assert all(m.message_id == str(e.event_id) for m, e in zip(messages, events, strict=True))
    assert all(m.delivery_mode == 2 and m.content_type == "application/json" for m in messages)
    assert events[1].data["name"] == "B"
    assert events[2].data["name"] == "B"  # a delete carries the last snapshot
    body = json.loads(messages[0].body)
    assert body["schema_version"] == 1 and body["type"] == "customer.created"
    assert await eventually(all_published)


async def test_a_failed_write_leaves_neither_row(
    settings: CrudSettings, db: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.crud.records as service_module

    real_append = service_module.append

    class DiskFull(Exception):
        pass

    async def append_then_fail(*args: Any, **kwargs: Any) -> None:
        await real_append(*args, **kwargs)  # both rows are written inside the transaction ...
        raise DiskFull()  # ... and then the transaction fails

    service = EntityService(CUSTOMERS, lambda: None)
    kept = await service.create({"name": "A", "email": "a@x.io", "phone": None, "metadata": {}})
    (event_id,) = (
        await connections.get("default").execute_query_dict("SELECT event_id FROM outbox")
    )[0].values()
    real_statement = service_module.insert_statement

    def clashing_statement(event: Any) -> tuple[str, list[Any]]:
        # The create's second statement fails in the database (an event id already used)
        # after its first one, the customer row, went through.
        sql, params = real_statement(event)
        return sql, [event_id, *params[1:]]

    monkeypatch.setattr(service_module, "insert_statement", clashing_statement)
    monkeypatch.setattr(service_module, "append", append_then_fail)
    with pytest.raises(Duplicate):  # how the API reports an integrity error on create
        await service.create({"name": "B", "email": "b@x.io", "phone": None, "metadata": {}})
    with pytest.raises(DiskFull):
        await service.update(kept.id, {"name": "changed"})
    with pytest.raises(DiskFull):
        await service.delete(kept.id)
    conn = connections.get("default")
    outbox = await conn.execute_query_dict("SELECT entity_id, version FROM outbox")
    customers = await conn.execute_query_dict("SELECT id, name, version FROM customers")
    assert customers == [{"id": kept.id, "name": "A", "version": 1}]
    assert outbox == [{"entity_id": kept.id, "version": 1}]


async def test_per_entity_order_under_concurrent_writes(
    crud: httpx.AsyncClient, broker: Broker
) -> None:
    tap = await broker.tap()
    ids = []
    for i in range(5):
        body = {"name": "c0", "email": f"c{i}@x.io"}
        ids.append((await crud.post("/customers", json=body)).json()["id"])

    async def bump(customer_id: str, n: int) -> None:
        await crud.patch(f"/customers/{customer_id}", json={"name": f"n{n}"})

    await asyncio.gather(*(bump(cid, n) for n in range(1, 9) for cid in ids))
    messages = await tap.collect(5 * 9)
    by_entity: dict[str, list[int]] = defaultdict(list)
    for event in customer_events(messages):
        by_entity[event.entity_id].append(event.version)
    assert set(by_entity) == set(ids)
    for versions in by_entity.values():
        assert versions == list(range(1, 10))


async def test_two_relays_lose_nothing_and_publish_nothing_twice(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    tap = await broker.tap()
    service = EntityService(CUSTOMERS, lambda: None)
    total = 0
    for i in range(60):
        c = await service.create(
            {"name": "x", "email": f"r{i}@x.io", "phone": None, "metadata": {}}
        )
        await service.update(c.id, {"name": "y"})
        total += 2
    buses = [make_bus(settings), make_bus(settings)]
    for bus in buses:
        await bus.connect()
    relays = [Relay(bus, OutboxSignal(), RelayConfig(batch_size=7)) for bus in buses]
    both_claimed_at_once = False
    try:
        while True:
            moved = await asyncio.gather(*(r.relay_once() for r in relays))
            both_claimed_at_once |= all(moved)
            if not any(moved):
                break
        messages = await tap.collect(total, timeout=20)
        messages = await tap.quiet(0.5)
    finally:
        for bus in buses:
            await bus.close()
    assert both_claimed_at_once, "the relays should have claimed side by side"
    ids = [m.message_id for m in messages]
    assert len(ids) == total and len(set(ids)) == total
    per_entity: dict[str, list[int]] = defaultdict(list)
    for e in customer_events(messages):
        per_entity[e.entity_id].append(e.version)
    assert all(v == [1, 2] for v in per_entity.values())
    assert await all_published()


async def test_relay_killed_mid_batch_loses_nothing(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    tap = await broker.tap()
    service = EntityService(CUSTOMERS, lambda: None)
    for i in range(30):
        await service.create({"name": "x", "email": f"k{i}@x.io", "phone": None, "metadata": {}})

    class Dies(Exception):
        pass

    bus = make_bus(settings)
    first = Relay(bus, OutboxSignal(), RelayConfig(batch_size=30))
    publish = bus.publish

    async def publish_then_die(*args: Any, **kwargs: Any) -> Any:
        await publish(*args, **kwargs)  # the broker has them all ...
        raise Dies()  # ... but the relay dies before it marks a single row

    bus.publish = publish_then_die  # type: ignore[method-assign]
    with pytest.raises(Dies):
        await first.relay_once()
    assert await unpublished() == 30
    await bus.close()

    restarted = Relay(make_bus(settings), OutboxSignal(), RelayConfig(batch_size=30))
    assert await restarted.relay_once() == 30
    await restarted.bus.close()
    messages = await tap.collect(60)
    ids = [m.message_id for m in messages]
    assert len(set(ids)) == 30, "every event arrived"
    assert len(ids) == 60, "re-published after the crash: duplicates, dedupable by message_id"
    assert await unpublished() == 0


async def test_unroutable_publish_is_an_error_not_a_silent_drop(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    channel = await broker.connection.channel()
    exchange = await channel.declare_exchange("twoway.test.nobody", "topic", auto_delete=True)
    service = EntityService(CUSTOMERS, lambda: None)
    await service.create({"name": "x", "email": "u@x.io", "phone": None, "metadata": {}})
    relay = Relay(make_bus(settings), OutboxSignal(), RelayConfig(exchange=exchange.name))
    try:
        with pytest.raises(UnroutableError):
            await relay.relay_once()
    finally:
        await relay.bus.close()
    assert await unpublished() == 1


async def test_published_rows_are_purged_after_retention(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    service = EntityService(CUSTOMERS, lambda: None)
    await service.create({"name": "x", "email": "p@x.io", "phone": None, "metadata": {}})
    await service.create({"name": "x", "email": "q@x.io", "phone": None, "metadata": {}})
    relay = Relay(make_bus(settings), OutboxSignal())
    await relay.relay_once()
    await relay.bus.close()
    conn = connections.get("default")
    await conn.execute_query(
        "UPDATE outbox SET published_at = published_at - INTERVAL 8 DAY ORDER BY id LIMIT 1"
    )
    await service.create({"name": "x", "email": "r@x.io", "phone": None, "metadata": {}})
    assert await relay.purge() == 1
    rows = await conn.execute_query_dict("SELECT COUNT(*) AS n FROM outbox")
    assert rows[0]["n"] == 2  # the fresh published row and the unpublished one stay


async def test_relay_stops_when_cancelled_even_if_the_driver_masks_the_cancellation(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    service = EntityService(CUSTOMERS, lambda: None)
    await service.create({"name": "x", "email": "c@x.io", "phone": None, "metadata": {}})
    bus = make_bus(settings)
    started = asyncio.Event()

    async def masked(*args: Any, **kwargs: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(30)  # scenario: a query that hangs until cancelled
        except asyncio.CancelledError:
            # What aiomysql does when cancelled mid-query: its own error, not CancelledError.
            raise RuntimeError("Cancelled during execution") from None

    bus.publish = masked  # type: ignore[method-assign]
    task = asyncio.create_task(Relay(bus, OutboxSignal()).run())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done, "the relay kept running after it was cancelled"
    assert task.cancelled()
    await bus.close()
