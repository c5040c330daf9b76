"""A create whose answer was lost, delivered again after Stripe forgot its idempotency key:
the worker finds the customer it made instead of making a second one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.links.models import ExternalLink
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from tests.conftest import Broker
from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.stripe_sync.conftest import Publisher, Workers, by_local_id, customer_event, link_of
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]


@pytest.mark.parametrize(
    "search_lag_s",
    [
        0.0,  # Search finds it
        3600.0,  # Search has not caught up: the listing by email finds it
    ],
)
async def test_a_lost_create_retried_after_the_key_expired_makes_no_second_customer(
    workers: Workers,
    publisher: Publisher,
    fake_stripe: FakeStripe,
    broker: Broker,
    search_lag_s: float,
) -> None:
    fake_stripe.search_lag_s = search_lag_s
    # Stripe makes the customer; its answer is lost (a 500 after it did).
    fake_stripe.faults.append(
        Fault(status=500, after_handler=True, method="POST", path_prefix="/v1/customers")
    )
    worker = workers.start()
    await publisher.events(customer_event("c1", 1, "created"))
    await eventually(lambda: fake_stripe.api_calls("POST"))
    await workers.stop(worker)
    (made,) = by_local_id()["c1"]
    attempt = await link_of("c1")
    assert attempt is not None and attempt.external_id is None
    assert attempt.create_attempt is not None  # recorded before the request went out

    # 25 hours later: Stripe no longer knows the key, and the event comes back.
    fake_stripe.forget_idempotency_keys()
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    await ExternalLink.filter(id=attempt.id).update(create_attempted_at=long_ago)
    workers.start()

    async def linked() -> bool:
        link = await link_of("c1")
        return link is not None and link.external_id is not None

    await eventually(linked, timeout=15)
    assert [c.id for c in by_local_id()["c1"]] == [made.id]  # one customer, the first one
    link = await link_of("c1")
    assert link is not None and link.external_id == made.id and link.create_attempt is None
    creates = [c for c in fake_stripe.api_calls("POST") if c.path == "/v1/customers"]
    assert len(creates) == 1
    assert await broker.count(STRIPE_SYNC_QUEUE.dead_letter) == 0


async def test_a_lost_create_retried_within_the_key_window_is_replayed(
    workers: Workers, publisher: Publisher, fake_stripe: FakeStripe
) -> None:
    """Within Stripe's 24 hours the same key makes Stripe answer as the first time: no search."""
    fake_stripe.faults.append(
        Fault(status=500, after_handler=True, method="POST", path_prefix="/v1/customers")
    )
    workers.start()
    await publisher.events(customer_event("c1", 1, "created"))

    async def linked() -> bool:
        link = await link_of("c1")
        return link is not None and link.external_id is not None

    await eventually(linked, timeout=15)
    assert len(by_local_id()["c1"]) == 1
    first, second = (c for c in fake_stripe.api_calls("POST") if c.path == "/v1/customers")
    assert first.idempotency_key == second.idempotency_key
    assert not fake_stripe.api_calls("GET", prefix="/v1/customers/search")
