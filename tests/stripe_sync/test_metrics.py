"""The stripe_sync worker's metrics: Stripe calls by operation and status, latency, and the
worker's own /metrics endpoint."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import generate_latest

from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.scrape import answering, delta, free_port, scrape
from tests.stripe_sync.conftest import Publisher, Workers, customer_event
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

REQUESTS = "twoway_stripe_requests_total"
LATENCY_COUNT = "twoway_stripe_request_seconds_count"


def creates(before: str, after: str, status: str) -> float:
    return delta(before, after, REQUESTS, operation="customers.create", status=status)


async def test_the_worker_serves_its_stripe_calls_as_prometheus_text(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    port = free_port()
    task = workers.start(metrics_port=port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        await eventually(lambda: answering(client))
        before = await scrape(client)
        # One create: a 500 (retried by the worker's policy), a 429 (retried by the caller
        # after Retry-After), then Stripe's answer.
        fake_stripe.faults += [Fault(status=500), Fault(status=429, headers={"Retry-After": "0"})]
        await publisher.events(customer_event("c1", 1, "created"))

        async def created() -> bool:
            return creates(before, await scrape(client), "200") >= 1

        await eventually(created)
        after = await scrape(client)
        assert [creates(before, after, s) for s in ("500", "429", "200")] == [1, 1, 1]
        assert delta(before, after, LATENCY_COUNT, operation="customers.create") == 3

        await workers.stop(task)
        assert not await answering(client), "the endpoint outlived the worker"


async def test_a_request_without_an_answer_is_counted_as_a_timeout(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    # No endpoint here (as under `twoway dev`): the process-wide registry is read directly.
    before = generate_latest().decode()
    fake_stripe.faults.append(Fault(status=200, hang_s=1.5))
    workers.start(stripe_timeout_s=0.5)
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: creates(before, generate_latest().decode(), "200") >= 1)
    assert creates(before, generate_latest().decode(), "timeout") == 1
