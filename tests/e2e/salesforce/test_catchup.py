"""Catch-up for Salesforce: what no Outbound Message told the app arrives by reading the
org's changes back (``SystemModstamp`` paging, ``queryAll``), deletes included."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.crud.settings import CrudSettings
from services.runtime.repair.models import RepairCursor
from services.salesforce_sync.settings import SalesforceSettings
from tests.e2e.conftest import System, stripe_state
from tests.e2e.salesforce.conftest import repair_role, stop
from tests.e2e.test_three_parties import (
    TOKEN,
    assert_everywhere_equal,
    deleted_everywhere,
    linked_customer,
    local,
)
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]

CURSOR = "salesforce:events"


def handed() -> float:
    return (
        REGISTRY.get_sample_value("twoway_catchup_commands_total", {"provider": "salesforce"})
        or 0.0
    )


async def started(settings: CrudSettings, sync: SalesforceSettings) -> None:
    """The repair role ran once before: its catch-up starts from the org's newest change."""
    role = await repair_role(settings, sync)
    try:
        assert await eventually(lambda: RepairCursor.get_or_none(name=CURSOR), timeout=10), (
            "catch-up never set its cursor"
        )
    finally:
        await stop(role)


async def test_a_contact_deleted_with_no_flow_reaches_the_app_and_stripe(
    three: System, settings: CrudSettings, salesforce_settings: SalesforceSettings
) -> None:
    assert three.salesforce is not None
    customer = await linked_customer(three)
    await started(settings, salesforce_settings)
    before = handed()

    # A person deletes the Contact; the org has no delete flow: no Outbound Message at all.
    await three.salesforce.delete(customer["sync"]["salesforce"]["external_id"], notify=False)
    assert await three.salesforce.pending() == 0

    role = await repair_role(settings, salesforce_settings)
    try:
        await deleted_everywhere(three, customer)
    finally:
        await stop(role)
    assert handed() == before + 1


async def test_a_change_made_while_the_gateway_was_down_arrives_through_catch_up(
    three: System,
    settings: CrudSettings,
    salesforce_settings: SalesforceSettings,
    gateway: Any,
) -> None:
    assert three.salesforce is not None
    customer = await linked_customer(three)
    await started(settings, salesforce_settings)
    before = handed()
    # The gateway is down for longer than Salesforce retries (24 hours): the Outbound Messages
    # of these changes are dropped (here: none is sent).
    await three.salesforce.drop_outbound()
    contact_id = customer["sync"]["salesforce"]["external_id"]
    await three.salesforce.edit(contact_id, Phone="+1 555 0199", LastName="Byron")
    grace = await three.salesforce.create(
        FirstName="Grace", LastName="Hopper", Email="grace@example.com"
    )
    assert await three.salesforce.pending() == 0
    await three.salesforce.configure(
        outbound_url=str(gateway.base_url.join(f"/webhooks/salesforce/{TOKEN}"))
    )

    role = await repair_role(settings, salesforce_settings)  # everything runs again
    try:

        async def arrived() -> bool:
            here = await local(three, customer["id"])
            emails = {c["email"] for c in (await three.api.get("/customers")).json()["data"]}
            return here["phone"] == "+1 555 0199" and "grace@example.com" in emails

        assert await eventually(arrived, timeout=15), await local(three, customer["id"])
        await three.quiet()
    finally:
        await stop(role)
    ada = await local(three, customer["id"])
    assert (ada["name"], ada["phone"]) == ("Ada Byron", "+1 555 0199")
    await assert_everywhere_equal(three, ada)  # and on to Stripe
    listing = (await three.api.get("/customers")).json()["data"]
    assert len(listing) == 2
    grace_here = next(c for c in listing if c["email"] == "grace@example.com")
    assert grace_here["sync"]["salesforce"]["external_id"] == grace["Id"]
    assert grace_here["sync"]["stripe"]["status"] == "synced"
    at_stripe = stripe_state(grace_here["sync"]["stripe"]["external_id"])
    assert (at_stripe["name"], at_stripe["email"]) == ("Grace Hopper", "grace@example.com")
    assert handed() == before + 2
