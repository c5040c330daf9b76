"""A worker process killed between Stripe's answer and its ack: the redelivery creates nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from services.stripe_sync.settings import StripeSettings
from tests.conftest import TEST_RETRY_DELAYS_MS, Broker
from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.stripe_sync.conftest import Publisher, Workers, by_local_id, customer_event, link_of
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

ROOT = Path(__file__).resolve().parents[2]


async def start_process(settings: StripeSettings) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value(),
        "TWOWAY_AMQP_URL": settings.amqp_url.get_secret_value(),
        "STRIPE_API_KEY": settings.stripe_api_key.get_secret_value(),
        "STRIPE_API_BASE": settings.stripe_api_base or "",
        "TWOWAY_RETRY_DELAYS_MS": str(list(TEST_RETRY_DELAYS_MS)),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "stripe-sync",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_worker_killed_after_stripe_answered_and_before_ack_creates_one_customer(
    workers: Workers,
    publisher: Publisher,
    fake_stripe: FakeStripe,
    broker: Broker,
    sync_settings: StripeSettings,
) -> None:
    # Stripe creates the customer, then the answer takes long: the process dies meanwhile.
    fake_stripe.faults.append(Fault(status=200, after_handler=True, hang_s=2.0, method="POST"))
    process = await start_process(sync_settings)
    try:
        await publisher.events(customer_event("c1", 1, "created"))
        await eventually(lambda: by_local_id().get("c1"), timeout=15)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    before = await link_of("c1")
    assert before is None or before.handled_version == 0  # it died before committing the version

    workers.start()

    async def applied() -> bool:
        link = await link_of("c1")
        return link is not None and link.handled_version == 1

    await eventually(applied)
    (customer,) = by_local_id()["c1"]
    link = await link_of("c1")
    assert link is not None and link.external_id == customer.id and link.handled_version == 1
    await eventually(lambda: fake_stripe.api_calls("POST")[1:])
    first, second = fake_stripe.api_calls("POST")
    assert first.idempotency_key == second.idempotency_key
    assert await broker.count(STRIPE_SYNC_QUEUE.name) == 0
    assert await broker.count(STRIPE_SYNC_QUEUE.dead_letter) == 0
