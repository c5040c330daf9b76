"""No loops: a change goes out once, its echo changes nothing, and the system falls silent.

Every service runs (see ``conftest.py``). A change made in the app must reach Stripe exactly
once and come back as a webhook that changes nothing; a change made in Stripe must land here
exactly once and cause no write back to Stripe. Any loop shows as extra versions, extra events
or extra Stripe calls, and as a system that does not go quiet.
"""

from __future__ import annotations

import json
from typing import Any

import aio_pika
import pytest

from services.runtime.providers import all_work_queues
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from tests.conftest import Broker, Tap
from tests.e2e.conftest import System, stripe_state
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]

PATCHES = 5


async def linked_customer(system: System) -> tuple[dict[str, Any], str]:
    """A customer made through the API, at Stripe and linked, with everything settled."""
    created = await system.api.post(
        "/customers", json={"name": "Ada", "email": "ada@example.com", "metadata": {"team": "a"}}
    )
    assert created.status_code == 201
    customer_id = created.json()["id"]

    async def linked() -> dict[str, Any] | None:
        customer: dict[str, Any] = (await system.api.get(f"/customers/{customer_id}")).json()
        stripe = customer["sync"]["stripe"]
        return customer if stripe["status"] == "synced" and stripe["external_id"] else None

    assert await eventually(linked), "the customer never got linked at Stripe"
    await system.quiet()
    customer = (await system.api.get(f"/customers/{customer_id}")).json()
    return customer, customer["sync"]["stripe"]["external_id"]


def customer_events(messages: list[aio_pika.abc.AbstractIncomingMessage]) -> list[dict[str, Any]]:
    return [json.loads(m.body) for m in messages if (m.routing_key or "").startswith("customer.")]


async def assert_in_step(system: System, customer_id: str, external_id: str) -> dict[str, Any]:
    """Stripe holds what the API shows, the sync status says so, and nothing was dead-lettered."""
    local = (await system.api.get(f"/customers/{customer_id}")).json()
    assert stripe_state(external_id) == {
        "name": local["name"],
        "email": local["email"],
        "phone": local["phone"],
        "metadata": {**local["metadata"], LOCAL_ID_METADATA_KEY: customer_id},
    }
    stripe = local["sync"]["stripe"]
    assert (stripe["status"], stripe["synced_version"]) == ("synced", local["version"])
    for work in all_work_queues():
        assert await system.broker.count(work.dead_letter) == 0, work.dead_letter
    return dict(local)


async def assert_stays_quiet(system: System, tap: Tap) -> None:
    """A further second: no event, no Stripe call, no webhook, no message handled."""
    before = await system.snapshot()
    seen = len(tap.messages)
    await tap.quiet(1.0)
    assert tap.messages[seen:] == []
    assert await system.snapshot() == before


async def test_app_changes_reach_stripe_once_and_their_echoes_change_nothing(
    system: System, broker: Broker
) -> None:
    customer, external_id = await linked_customer(system)
    v0 = customer["version"]
    calls0 = len(system.fake.calls)
    tap = await broker.tap()

    for n in range(1, PATCHES + 1):
        response = await system.api.patch(
            f"/customers/{customer['id']}",
            # Removing a metadata key and clearing the phone too: their echoes must match.
            json={
                "name": f"Ada v{n}",
                "phone": f"+1 555 010{n}" if n % 2 else None,
                "metadata": {"n": str(n)},
            },
        )
        assert response.status_code == 200
    await system.quiet()

    updates = [c for c in system.fake.calls[calls0:] if c.method == "POST"]
    assert [c.path for c in updates] == [f"/v1/customers/{external_id}"] * PATCHES
    assert system.fake.calls[calls0:] == updates  # no reads either
    local = await assert_in_step(system, customer["id"], external_id)
    assert local["version"] == v0 + PATCHES
    assert local["name"] == f"Ada v{PATCHES}"
    events = customer_events(await tap.quiet(0))
    assert [(e["type"], e["origin"]) for e in events] == [("customer.updated", "app")] * PATCHES
    assert [e["version"] for e in events] == list(range(v0 + 1, v0 + PATCHES + 1))
    await assert_stays_quiet(system, tap)


async def test_a_stripe_change_lands_once_and_is_not_written_back(
    system: System, broker: Broker
) -> None:
    customer, external_id = await linked_customer(system)
    v0 = customer["version"]
    calls0 = len(system.fake.calls)
    tap = await broker.tap()

    async with system.fake.client() as stripe:
        await stripe.v1.customers.update_async(external_id, params={"name": "Grace"})
    await system.quiet()

    # The one call is the test's own: nothing wrote back to Stripe, nothing even read from it.
    assert [(c.method, c.path) for c in system.fake.calls[calls0:]] == [
        ("POST", f"/v1/customers/{external_id}")
    ]
    local = await assert_in_step(system, customer["id"], external_id)
    assert (local["version"], local["name"]) == (v0 + 1, "Grace")
    events = customer_events(await tap.quiet(0))
    assert [(e["type"], e["origin"], e["version"]) for e in events] == [
        ("customer.updated", "stripe", v0 + 1)
    ]
    await assert_stays_quiet(system, tap)
