"""The stripe_sync worker on real RabbitMQ and MariaDB against localstripe in-process."""

from __future__ import annotations

import json

import pytest

from services.stripe_sync.names import STRIPE, STRIPE_SYNC_QUEUE
from services.stripe_sync.stripe.client import build_client
from shared.events import dump_event, parse_event
from shared.topology import HEADER_ATTEMPTS, HEADER_LAST_ERROR, HEADER_REASON
from tests.conftest import Broker
from tests.fakes.stripe_fake import API_KEY, FakeStripe, Fault
from tests.stripe_sync.conftest import (
    Publisher,
    Workers,
    by_local_id,
    customer_event,
    link_of,
    stripe_customers,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]


async def synced(entity_id: str, version: int) -> bool:
    link = await link_of(entity_id)
    return link is not None and link.handled_version >= version


async def test_create_update_delete_reach_stripe(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    results = await broker.tap(key="sync.#")
    workers.start()
    created = customer_event(
        "c1", 1, "created", phone="+1 555 0100", metadata={"plan": "pro", "team": "a"}
    )
    await publisher.events(created)
    await eventually(lambda: synced("c1", 1))
    (customer,) = by_local_id()["c1"]
    assert customer.name == created.snapshot.name and customer.email == "c1@example.com"
    assert customer.phone == "+1 555 0100"
    assert customer.metadata == {"plan": "pro", "team": "a", "twoway_id": "c1"}

    await publisher.events(
        customer_event(
            "c1",
            2,
            name="Renamed",
            phone=None,
            metadata={"plan": "max"},
            changed=("metadata.plan", "metadata.team", "name", "phone"),
        )
    )
    await eventually(lambda: synced("c1", 2))
    customer = stripe_customers()[customer.id]
    assert customer.name == "Renamed" and not customer.phone
    assert {k: v for k, v in customer.metadata.items() if v} == {
        "plan": "max",
        "twoway_id": "c1",
    }

    await publisher.events(customer_event("c1", 3, "deleted"))
    await eventually(lambda: synced("c1", 3))
    assert stripe_customers() == {}
    assert [c.method for c in fake_stripe.api_calls()] == ["POST", "POST", "DELETE"]

    messages = await results.collect(3)
    reports = [parse_event(m.body) for m in messages]
    assert [(r.version, r.status, r.external_id) for r in reports] == [  # type: ignore[union-attr]
        (1, "synced", customer.id),
        (2, "synced", customer.id),
        (3, "synced", customer.id),
    ]
    assert await broker.count(STRIPE_SYNC_QUEUE.name) == 0
    assert await broker.count(STRIPE_SYNC_QUEUE.dead_letter) == 0


async def test_stripe_did_it_but_the_answer_was_lost_creates_one_customer(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    fake_stripe.faults.append(Fault(status=500, after_handler=True, method="POST"))
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: synced("c1", 1))
    assert len(by_local_id()["c1"]) == 1
    posts = fake_stripe.api_calls("POST")
    assert [c.status for c in posts] == [500, 200]
    assert posts[0].idempotency_key == posts[1].idempotency_key is not None


async def test_reordered_and_duplicated_events_converge(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    streams = {}
    for entity_id in ("a", "b", "c"):
        streams[entity_id] = [
            customer_event(entity_id, 1, "created"),
            customer_event(entity_id, 2),
            customer_event(entity_id, 3, metadata={"final": "yes"}),
        ]
    orders = {"a": [2, 0, 1, 2, 0], "b": [1, 1, 2, 0, 2], "c": [0, 2, 1, 0, 1]}
    for position in range(5):
        await publisher.events(*(streams[e][orders[e][position]] for e in streams))
    workers.start()
    workers.start()  # two workers at once share the queue
    for entity_id in streams:
        await eventually(lambda entity_id=entity_id: synced(entity_id, 3))
    customers = by_local_id()
    for entity_id, events in streams.items():
        (customer,) = customers[entity_id]
        assert customer.name == events[2].snapshot.name
        assert customer.metadata.get("final") == "yes"
    assert len(fake_stripe.api_calls("POST")) <= 9


async def test_delete_of_a_customer_stripe_never_saw_is_a_noop(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    results = await broker.tap(key="sync.#")
    workers.start()
    await publisher.events(customer_event("c1", 2, "deleted"))
    await eventually(lambda: synced("c1", 2))
    await publisher.events(customer_event("c1", 1, "created"))  # late: must not resurrect it
    (first, second) = [parse_event(m.body) for m in await results.collect(2)]
    assert (first.status, second.status) == ("synced", "skipped")  # type: ignore[union-attr]
    assert fake_stripe.api_calls() == [] and stripe_customers() == {}


async def test_changes_that_came_from_stripe_are_not_sent_back(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    results = await broker.tap(key="sync.#")
    workers.start()
    await publisher.events(
        customer_event("c1", 1, "created", origin=STRIPE),
        customer_event("c1", 2, origin=STRIPE),
    )
    reports = [parse_event(m.body) for m in await results.collect(2)]
    assert [(r.version, r.status) for r in reports] == [(1, "synced"), (2, "synced")]  # type: ignore[union-attr]
    assert fake_stripe.api_calls() == []


async def test_an_app_change_to_a_customer_made_in_stripe_updates_that_customer(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    dashboard, http_client = build_client(API_KEY, fake_stripe.url, 5.0)
    made = await dashboard.v1.customers.create_async(
        params={"name": "From Stripe", "email": "c1@example.com"}
    )
    await http_client.close_async()
    workers.start()
    # The inbound side turned Stripe's customer into local c1 and announced it (origin stripe).
    await publisher.events(customer_event("c1", 1, "created", origin=STRIPE, external_id=made.id))
    await eventually(lambda: synced("c1", 1))
    await publisher.events(customer_event("c1", 2, name="Changed in the app", changed=("name",)))
    await eventually(lambda: synced("c1", 2))
    (customer,) = stripe_customers().values()
    assert customer.id == made.id and customer.name == "Changed in the app"
    assert customer.metadata["twoway_id"] == "c1"
    (update,) = fake_stripe.api_calls("POST", prefix=f"/v1/customers/{made.id}")
    assert update.form == {"name": "Changed in the app", "metadata[twoway_id]": "c1"}


async def test_an_event_from_stripe_without_its_stripe_id_is_refused_as_malformed(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    event = customer_event("c1", 1, "created", origin=STRIPE)
    body = json.loads(dump_event(event))
    body["external_ids"] = {}
    workers.start()
    await publisher.raw("customer.created", json.dumps(body).encode())
    (dead,) = await eventually(lambda: broker.drain(STRIPE_SYNC_QUEUE.dead_letter, 0.1))
    assert dead.headers[HEADER_REASON] == "malformed"
    assert fake_stripe.api_calls() == [] and stripe_customers() == {}


async def test_poison_message_is_dead_lettered_at_once_with_its_body(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    workers.start()
    await publisher.raw("customer.created", b'{"type": "customer.created", "oops": 1}')
    (dead,) = await eventually(lambda: broker.drain(STRIPE_SYNC_QUEUE.dead_letter, 0.1))
    assert json.loads(dead.body) == {"type": "customer.created", "oops": 1}
    assert dead.headers[HEADER_REASON] == "malformed"
    assert dead.headers[HEADER_ATTEMPTS] == 1
    assert fake_stripe.api_calls() == []


async def test_permanent_stripe_error_is_dead_lettered_at_once_and_reported(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    results = await broker.tap(key="sync.#")
    fake_stripe.faults.append(
        Fault(
            status=400,
            body={"error": {"type": "invalid_request_error", "message": "Invalid email"}},
        )
    )
    workers.start()
    event = customer_event("c1", 1, "created")
    await publisher.events(event)
    (dead,) = await eventually(lambda: broker.drain(STRIPE_SYNC_QUEUE.dead_letter, 0.1))
    assert parse_event(dead.body) == event
    assert dead.headers[HEADER_REASON] == "stripe_400"
    assert dead.headers[HEADER_ATTEMPTS] == 1
    assert "Invalid email" in str(dead.headers[HEADER_LAST_ERROR])
    (report,) = [parse_event(m.body) for m in await results.collect(1)]
    assert report.status == "failed" and "Invalid email" in (report.error or "")  # type: ignore[union-attr]
    assert len(fake_stripe.api_calls()) == 1


async def test_retryable_errors_back_off_then_succeed(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    fake_stripe.faults += [Fault(status=500), Fault(status=503)]
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: synced("c1", 1))
    calls = fake_stripe.api_calls("POST")
    assert [c.status for c in calls] == [500, 503, 200]
    # Waits in the retry tiers (conftest: 200 ms, then 500 ms), never a hot loop.
    assert calls[1].at - calls[0].at >= 0.2
    assert calls[2].at - calls[1].at >= 0.5
    assert len(by_local_id()["c1"]) == 1


async def test_retries_exhausted_go_to_the_dead_letter_queue(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    results = await broker.tap(key="sync.#")
    fake_stripe.faults += [Fault(status=502) for _ in range(4)]
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    (dead,) = await eventually(lambda: broker.drain(STRIPE_SYNC_QUEUE.dead_letter, 0.1))
    assert dead.headers[HEADER_REASON] == "retries_exhausted"
    assert dead.headers[HEADER_ATTEMPTS] == 4
    # Only the final attempt reports the failure; the retried ones report nothing.
    (report,) = [parse_event(m.body) for m in await results.quiet(0.3)]
    assert report.status == "failed" and "502" in (report.error or "")  # type: ignore[union-attr]
    assert [c.status for c in fake_stripe.api_calls()] == [502] * 4
    assert stripe_customers() == {}


async def test_a_429_slows_the_worker_down_and_fails_nothing(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    fake_stripe.faults.append(Fault(status=429, headers={"Retry-After": "1"}))
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: fake_stripe.api_calls())
    await publisher.events(customer_event("c2", 1, "created"))  # held back too
    await eventually(lambda: synced("c1", 1))
    await eventually(lambda: synced("c2", 1))
    calls = fake_stripe.api_calls("POST")
    assert [c.status for c in calls].count(429) == 1 and len(calls) == 3
    limited = next(c for c in calls if c.status == 429)
    assert all(c.at - limited.at >= 1.0 for c in calls if c.at > limited.at)
    assert await broker.count(STRIPE_SYNC_QUEUE.dead_letter) == 0


async def test_a_request_that_times_out_is_retried(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    fake_stripe.faults.append(Fault(status=200, hang_s=1.5))
    workers.start(stripe_timeout_s=0.5)
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: synced("c1", 1))
    assert len(by_local_id()["c1"]) == 1
