"""Concurrent edits on both sides: field-level sync never loses one, and conflicts end equal.

Every service runs (see ``conftest.py``). The app's update to Stripe is *held* at the fake
Stripe (as a slow answer would keep it) while the dashboard changes the same customer. Each
scenario runs twice: with events as real Stripe sends them (``request.idempotency_key`` and
``previous_attributes``) and as localstripe sends them (neither: the shadow and the clock
decide).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.crud.settings import CrudSettings
from services.crud.sync.rules import ConflictRule
from tests.conftest import Broker
from tests.e2e.conftest import System, stripe_state
from tests.e2e.test_loop_freedom import assert_in_step, customer_events, linked_customer
from tests.scrape import delta, metrics_url, scrape
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
    pytest.mark.parametrize(
        "fake_stripe", [True, False], ids=["stripe", "localstripe"], indirect=True
    ),
]


@pytest.fixture
def rule() -> ConflictRule:
    return ConflictRule.LATEST


@pytest.fixture
def settings(settings: CrudSettings, rule: ConflictRule) -> CrudSettings:
    return settings.model_copy(update={"conflict_rule": rule})


async def local(system: System, customer_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await system.api.get(f"/customers/{customer_id}")).json()
    return body


async def dashboard(system: System, external_id: str, **params: Any) -> None:
    """A change made in Stripe by someone else (its requests are never held)."""
    async with system.fake.client() as stripe:
        await stripe.v1.customers.update_async(external_id, params=params)


async def conflicts(system: System, **query: str) -> list[dict[str, Any]]:
    body = (await system.api.get("/conflicts", params=query)).json()
    data: list[dict[str, Any]] = body["data"]
    return data


async def test_disjoint_concurrent_edits_both_survive_on_both_sides(system: System) -> None:
    customer, external_id = await linked_customer(system)
    system.fake.hold()
    patched = await system.api.patch(f"/customers/{customer['id']}", json={"name": "Ada King"})
    assert patched.status_code == 200
    await system.fake.held(1)  # the app's update is on its way, held at Stripe
    await dashboard(system, external_id, phone="+1 555 0199")

    async def phone_arrived() -> dict[str, Any] | None:
        now = await local(system, customer["id"])
        return now if now["phone"] == "+1 555 0199" else None

    arrived = await eventually(phone_arrived)
    assert arrived, "the dashboard's phone never reached the app"
    assert arrived["name"] == "Ada King"  # the app's own change was not reverted meanwhile
    system.fake.release()
    await system.quiet()

    final = await assert_in_step(system, customer["id"], external_id)
    assert (final["name"], final["phone"]) == ("Ada King", "+1 555 0199")
    assert final["version"] == customer["version"] + 2
    found = await conflicts(system)
    assert found == [], json.dumps(found)


async def test_same_field_concurrent_edit_ends_equal_with_one_conflict(system: System) -> None:
    customer, external_id = await linked_customer(system)
    before = await scrape(system.api, metrics_url(system.api))
    system.fake.hold()
    await system.api.patch(f"/customers/{customer['id']}", json={"name": "Ada (app)"})
    await system.fake.held(1)
    await dashboard(system, external_id, name="Ada (dashboard)")
    assert await eventually(lambda: conflicts(system)), "no conflict was recorded"
    system.fake.release()
    await system.quiet()

    final = await assert_in_step(system, customer["id"], external_id)
    (conflict,) = await conflicts(system)
    assert conflict["entity"] == "customer" and conflict["entity_id"] == customer["id"]
    assert (conflict["provider"], conflict["field"]) == ("stripe", "name")
    assert (conflict["app_value"], conflict["provider_value"]) == ("Ada (app)", "Ada (dashboard)")
    # Same second at Stripe's clock: a tie, which goes to the provider.
    assert (conflict["winner"], conflict["rule"]) == ("provider", "latest")
    assert final["name"] == conflict["value"] == "Ada (dashboard)"
    assert conflict["app_changed_at"] and conflict["provider_changed_at"]
    labels = {"entity": "customer", "provider": "stripe", "winner": "provider"}
    after = await scrape(system.api, metrics_url(system.api))
    assert delta(before, after, "twoway_conflicts_total", **labels) == 1


@pytest.mark.parametrize("rule", [ConflictRule.APP], ids=["app-wins"])
async def test_the_app_wins_rule_writes_the_app_value_back_to_stripe(system: System) -> None:
    customer, external_id = await linked_customer(system)
    system.fake.hold()
    await system.api.patch(f"/customers/{customer['id']}", json={"name": "Ada (app)"})
    await system.fake.held(1)
    await dashboard(system, external_id, name="Ada (dashboard)")
    assert await eventually(lambda: conflicts(system))
    system.fake.release()
    await system.quiet()

    final = await assert_in_step(system, customer["id"], external_id)
    assert final["name"] == "Ada (app)" == stripe_state(external_id)["name"]
    (conflict,) = await conflicts(system, entity_id=customer["id"], provider="stripe")
    assert (conflict["winner"], conflict["rule"], conflict["value"]) == ("app", "app", "Ada (app)")
    assert await conflicts(system, since="2999-01-01T00:00:00Z") == []
    assert await conflicts(system, entity_id="someone-else") == []


@contextlib.asynccontextmanager
async def sampling(system: System, customer_id: str) -> AsyncIterator[list[tuple[float, str]]]:
    """Read the customer's name over and over while the block runs: (time read, name)."""
    samples: list[tuple[float, str]] = []

    async def sample() -> None:
        while True:
            started = time.monotonic()
            samples.append((started, (await local(system, customer_id))["name"]))
            await asyncio.sleep(0.005)  # scenario: the sampler's pace

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_quick_app_edits_are_never_shown_older_while_the_dashboard_edits(
    system: System, broker: Broker
) -> None:
    customer, external_id = await linked_customer(system)
    tap = await broker.tap()
    written: list[tuple[float, str]] = []  # (time the API answered, name written)
    async with sampling(system, customer["id"]) as samples:
        system.fake.hold()
        for n in (1, 2, 3):
            name = f"Ada v{n}"
            response = await system.api.patch(f"/customers/{customer['id']}", json={"name": name})
            assert response.status_code == 200
            written.append((time.monotonic(), name))
            if n == 2:
                await dashboard(system, external_id, phone="+1 555 0142")
        system.fake.release()
        await system.quiet()

    order = [name for _, name in written]
    for read_at, name in samples:
        newest = [n for at, n in written if at <= read_at]
        if newest:  # read after the app wrote newest[-1]: never an older value
            assert order.index(name) >= order.index(newest[-1]), (name, newest[-1])
    final = await assert_in_step(system, customer["id"], external_id)
    assert (final["name"], final["phone"]) == ("Ada v3", "+1 555 0142")
    assert final["version"] == customer["version"] + 4  # three app edits, one dashboard edit
    names = [e["data"]["name"] for e in customer_events(await tap.quiet(0))]
    assert names == ["Ada v1", "Ada v2", "Ada v3"] or sorted(names, key=order.index) == names
    found = await conflicts(system)
    assert found == [], json.dumps(found)
