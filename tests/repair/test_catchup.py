"""Catch-up: what Stripe did while the gateway was down arrives once everything runs again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.crud.settings import CrudSettings
from services.repair.main import main as repair_main
from services.repair.settings import RepairSettings
from services.runtime.amqp import AmqpBus
from services.runtime.repair.models import RepairCursor
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.conftest import System
from tests.scrape import free_port
from tests.waiting import eventually
from tests.webhook_gateway.events import webhook_url
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def repair_role(
    settings: CrudSettings, sync: StripeSettings, **overrides: Any
) -> asyncio.Task[None]:
    repair = RepairSettings(
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        retry_delays_ms=settings.retry_delays_ms,
        **{"catchup_interval_s": 3600.0, "audit_period_s": 3600.0, **overrides},
    )
    bus = AmqpBus(settings.amqp_url.get_secret_value(), settings.retry_delays_ms)
    job = repair_main(repair, sync, settings, provider=STRIPE, bus=bus, own_database=False)
    return asyncio.create_task(job)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_changes_made_while_the_gateway_was_down_arrive_through_catch_up(
    system: System,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    gateway: Any,
) -> None:
    created = await system.api.post("/customers", json={"name": "Ada", "email": "ada@example.com"})
    ada = created.json()["id"]
    await system.quiet()
    ada_at_stripe = (await system.api.get(f"/customers/{ada}")).json()["sync"]["stripe"]
    # The repair role ran before: its catch-up starts from Stripe's newest event.
    role = await repair_role(settings, sync_settings)
    try:
        await eventually(lambda: RepairCursor.get_or_none(name="stripe:events"))
    finally:
        await stop(role)
    # The gateway goes down: Stripe's deliveries fail (localstripe does not redeliver).
    await system.fake.register_webhook(f"http://127.0.0.1:{free_port()}/", WEBHOOK_SECRET)
    async with system.fake.client() as stripe:
        await stripe.v1.customers.update_async(
            ada_at_stripe["external_id"], params={"name": "Ada Lovelace"}
        )
        grace = await stripe.v1.customers.create_async(
            params={"name": "Grace", "email": "grace@example.com"}
        )
    await system.fake.settle()
    assert all(isinstance(d, Exception) for d in system.fake.deliveries[-2:])
    await system.fake.register_webhook(webhook_url(gateway), WEBHOOK_SECRET)
    handed = sample("twoway_catchup_commands_total", provider="stripe")

    role = await repair_role(settings, sync_settings)  # everything runs again
    try:

        async def arrived() -> bool:
            customer = (await system.api.get(f"/customers/{ada}")).json()
            listing = (await system.api.get("/customers")).json()["data"]
            emails = {c["email"] for c in listing}
            return customer["name"] == "Ada Lovelace" and "grace@example.com" in emails

        assert await eventually(arrived), "the changes never arrived"
        await system.quiet()
    finally:
        await stop(role)
    listing = (await system.api.get("/customers")).json()["data"]
    grace_here = next(c for c in listing if c["email"] == "grace@example.com")
    assert grace_here["sync"]["stripe"]["external_id"] == grace.id
    assert len(listing) == 2
    assert sample("twoway_catchup_commands_total", provider="stripe") == handed + 2
    position = sample("twoway_catchup_position_timestamp_seconds", provider="stripe")
    assert position >= grace.created
