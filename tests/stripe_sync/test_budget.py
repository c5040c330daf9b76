"""Stripe's budget across workers: one total for the deployment, 429s that slow everyone,
live changes before bulk traffic, and what /metrics shows of it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from tortoise import connections

from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.settings import StripeSettings
from services.stripe_sync.stripe.calls import Caller
from shared.topology import HEADER_REASON
from tests.conftest import Broker
from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.scrape import answering, delta, free_port, sample, scrape
from tests.stripe_sync.conftest import Publisher, Workers, customer_event, link_of
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

GRANTS = "twoway_budget_grants_total"


async def synced(*entity_ids: str) -> bool:
    for entity_id in entity_ids:
        link = await link_of(entity_id)
        if link is None or link.handled_version < 1:
            return False
    return True


async def stripe_paused() -> bool:
    rows: Any = await connections.get("default").execute_query_dict(
        "SELECT paused_until > NOW(6) AS paused FROM rate_budgets WHERE name = 'stripe'"
    )
    return bool(rows and rows[0]["paused"])


async def test_two_workers_together_keep_to_one_budget(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    budget = 10
    events = [customer_event(f"c{i}", 1, "created") for i in range(3 * budget)]
    await publisher.events(*events)
    # A few messages each at a time, so that both take part whenever each one starts.
    workers.start(stripe_rate_limit=budget, prefetch=3)
    workers.start(stripe_rate_limit=budget, prefetch=3)
    await eventually(lambda: synced(*(e.entity_id for e in events)), timeout=20)
    assert len(fake_stripe.api_calls("POST")) == len(events)
    # The budget is the deployment's: two workers at 10/s each would send up to 20 in a second
    # (and a backlog is not crawling either; the benchmark measures how close it gets).
    assert budget // 2 <= fake_stripe.max_per_window(1.0) <= budget


async def test_a_429_pauses_every_worker_for_retry_after(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    fake_stripe.faults.append(Fault(status=429, headers={"Retry-After": "1"}, method="POST"))
    workers.start()
    workers.start()
    await publisher.events(customer_event("first", 1, "created"))
    await eventually(stripe_paused)
    # Published once the pause is in the database: whichever worker takes them, they wait.
    later = [customer_event(f"c{i}", 1, "created") for i in range(4)]
    await publisher.events(*later)
    await eventually(lambda: synced("first", *(e.entity_id for e in later)))

    limited, *others = fake_stripe.api_calls("POST")
    assert limited.status == 429
    assert len(others) == 5 and all(c.status == 200 for c in others)
    assert min(c.at for c in others) - limited.at >= 1.0
    assert others[0].idempotency_key is not None
    assert limited.idempotency_key in {c.idempotency_key for c in others}  # the same request


async def test_stripe_should_retry_false_is_obeyed_and_still_pauses(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe, broker: Broker
) -> None:
    fake_stripe.faults.append(
        Fault(status=429, headers={"Stripe-Should-Retry": "false", "Retry-After": "2"})
    )
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    (dead,) = await eventually(lambda: broker.drain(STRIPE_SYNC_QUEUE.dead_letter), timeout=10)
    assert dead.headers[HEADER_REASON] == "stripe_429"
    assert [c.status for c in fake_stripe.api_calls()] == [429]  # not retried
    assert await stripe_paused()


async def test_live_changes_go_before_a_bulk_backlog_in_the_same_budget(
    workers: Workers,
    publisher: Publisher,
    fake_stripe: FakeStripe,
    sync_settings: StripeSettings,
) -> None:
    settings = sync_settings.model_copy(update={"stripe_rate_limit": 5})
    before = generate_latest().decode()  # the workers here run in this process
    async with stripe_budget(settings) as budget, fake_stripe.client() as client:
        call = Caller(budget)

        async def bulk_read() -> None:  # as reconcile will page through Stripe
            await call(
                "customers.list",
                lambda: client.v1.customers.list_async(params={"limit": 1}),
                lane="bulk",
            )

        backlog = [asyncio.create_task(bulk_read()) for _ in range(30)]
        workers.start(budget=budget)
        await eventually(lambda: len(fake_stripe.api_calls("GET")) >= 3)
        await publisher.events(customer_event("c1", 1, "created"))
        await eventually(lambda: fake_stripe.api_calls("POST"), timeout=10)
        reads_before_the_write = len(fake_stripe.api_calls("GET"))
        for task in backlog:
            task.cancel()
        await asyncio.gather(*backlog, return_exceptions=True)

    # Six seconds of bulk reads were queued; the write went at the next free slot or so.
    assert reads_before_the_write <= 8
    after = generate_latest().decode()
    assert delta(before, after, GRANTS, budget="stripe", lane="live") == 1
    assert delta(before, after, GRANTS, budget="stripe", lane="bulk") >= reads_before_the_write


async def test_metrics_show_the_budget_its_use_per_lane_and_waits(
    workers: Workers, publisher: Publisher
) -> None:
    port = free_port()
    workers.start(metrics_port=port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        await eventually(lambda: answering(client))
        before = await scrape(client)
        await publisher.events(*(customer_event(f"c{i}", 1, "created") for i in range(3)))
        await eventually(lambda: synced("c0", "c1", "c2"))
        after = await scrape(client)
    assert sample(after, "twoway_budget_limit", budget="stripe") == 25
    assert sample(after, "twoway_budget_window_seconds", budget="stripe") == 1
    assert sample(after, "twoway_budget_coordinated", budget="stripe") == 1
    assert sample(after, "twoway_budget_members", budget="stripe") == 1
    assert delta(before, after, GRANTS, budget="stripe", lane="live") == 3
    wait_count = "twoway_budget_wait_seconds_count"
    assert delta(before, after, wait_count, budget="stripe", lane="live") == 3
    assert sample(after, "twoway_budget_waiting", budget="stripe", lane="live") == 0
