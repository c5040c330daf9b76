"""Three parties: the app, Stripe and Salesforce, each change arriving once, with no loops.

Every service runs (see ``conftest.py``), plus the salesforce_sync worker and the fake
Salesforce, which sends its Outbound Messages to the real gateway. A change made in one place
reaches the other two through the app: Stripe -> app -> Salesforce, Salesforce -> app -> Stripe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.crud.settings import CrudSettings
from services.runtime.providers import all_work_queues
from services.runtime.settings import ProviderSettings
from services.salesforce_sync.main import main as salesforce_sync_main
from services.salesforce_sync.names import SALESFORCE, SALESFORCE_SYNC_QUEUE
from services.salesforce_sync.settings import SalesforceSettings
from services.stripe_sync.names import STRIPE
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.topology import HEADER_LAST_ERROR, HEADER_REASON, work_queues
from tests.conftest import Broker
from tests.e2e.conftest import System, stripe_state
from tests.fakes.salesforce_fake import SalesforceFake
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]

PROVIDERS = (STRIPE, SALESFORCE)
TOKEN = "tok-three-parties-" + "x" * 16
EXTERNAL_ID = "Twoway_Id__c"
EDITS = 4


@pytest.fixture
def settings(settings: CrudSettings) -> CrudSettings:
    return settings.model_copy(update={"providers": PROVIDERS})


@pytest.fixture
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    return gateway_settings.model_copy(update={"providers": PROVIDERS})


@pytest.fixture
def gateway_providers(
    gateway_providers: dict[Provider, ProviderSettings], salesforce_fake: SalesforceFake
) -> dict[Provider, ProviderSettings]:
    salesforce = SalesforceSettings(
        salesforce_org_id=salesforce_fake.org_id,
        salesforce_webhook_token=TOKEN,
        salesforce_integration_user_id=salesforce_fake.integration_user_id,
    )
    return {**gateway_providers, SALESFORCE: salesforce}


@pytest.fixture
def salesforce_overrides() -> dict[str, Any]:
    """Worker settings a test changes (by parametrizing this fixture)."""
    return {}


@pytest.fixture
def salesforce_settings(
    settings: CrudSettings, salesforce_fake: SalesforceFake, salesforce_overrides: dict[str, Any]
) -> SalesforceSettings:
    return SalesforceSettings.model_validate(
        {
            "database_url": settings.database_url,
            "amqp_url": settings.amqp_url,
            "retry_delays_ms": settings.retry_delays_ms,
            "providers": PROVIDERS,
            "salesforce_login_url": salesforce_fake.url,
            "salesforce_client_id": salesforce_fake.client_id,
            "salesforce_client_secret": salesforce_fake.client_secret,
            "salesforce_timeout_s": 2.0,
            **salesforce_overrides,
        }
    )


@pytest.fixture
async def three(
    settings: CrudSettings,
    system: System,
    gateway: httpx.AsyncClient,
    salesforce_fake: SalesforceFake,
    salesforce_settings: SalesforceSettings,
) -> AsyncIterator[System]:
    """The whole system, with Salesforce as a second provider."""
    await salesforce_fake.configure(
        outbound_url=str(gateway.base_url.join(f"/webhooks/salesforce/{TOKEN}"))
    )
    worker = asyncio.create_task(salesforce_sync_main(salesforce_settings, own_database=False))
    three = System(
        system.api,
        system.fake,
        system.broker,
        settings.retry_delays_ms,
        work_queues(PROVIDERS),  # this deployment's: quiet is about its queues
        salesforce=salesforce_fake,
    )
    try:
        yield three
        with contextlib.suppress(AssertionError):
            await three.quiet(timeout=5)
    finally:
        if worker.done():
            worker.result()  # the worker stopped by itself: its error is the test's
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def local(system: System, customer_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await system.api.get(f"/customers/{customer_id}")).json()
    return body


async def synced_everywhere(system: System, customer_id: str) -> dict[str, Any] | None:
    customer = await local(system, customer_id)
    sync = customer["sync"]
    done = all(
        (sync[p.value]["status"], sync[p.value]["synced_version"])
        == ("synced", customer["version"])
        for p in PROVIDERS
    )
    return customer if done else None


async def linked_customer(system: System, **fields: Any) -> dict[str, Any]:
    """A customer made through the API, at both providers, with everything settled."""
    body = {"name": "Ada Lovelace", "email": "ada@example.com", **fields}
    created = await system.api.post("/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    synced = await eventually(lambda: synced_everywhere(system, customer_id), timeout=15)
    assert synced, str((await local(system, customer_id))["sync"])
    await system.quiet()
    return await local(system, customer_id)


def contact_view(customer: dict[str, Any]) -> dict[str, Any]:
    """What Salesforce should hold for ``customer`` (the name split at its last space)."""
    first, _, last = customer["name"].rpartition(" ")
    return {
        "FirstName": first or None,
        "LastName": last,
        "Email": customer["email"],
        "Phone": customer["phone"],
    }


async def assert_everywhere_equal(system: System, customer: dict[str, Any]) -> None:
    """Stripe and Salesforce hold what the API shows; nothing was dead-lettered."""
    assert system.salesforce is not None
    stripe = stripe_state(customer["sync"]["stripe"]["external_id"])
    assert (stripe["name"], stripe["email"], stripe["phone"]) == (
        customer["name"],
        customer["email"],
        customer["phone"],
    )
    contact = await system.salesforce.contact_by_local_id(customer["id"])
    assert contact is not None
    assert contact["Id"] == customer["sync"]["salesforce"]["external_id"]
    assert {k: contact.get(k) for k in ("FirstName", "LastName", "Email", "Phone")} == (
        contact_view(customer)
    )
    for work in all_work_queues():
        assert await system.broker.count(work.dead_letter) == 0, work.dead_letter


async def test_an_app_change_reaches_both_providers(three: System) -> None:
    customer = await linked_customer(three, phone="+1 555 0100")
    await assert_everywhere_equal(three, customer)
    assert customer["version"] == 1  # neither provider's echo made a new version

    updated = await three.api.patch(f"/customers/{customer['id']}", json={"phone": "+1 555 0101"})
    assert updated.status_code == 200
    assert await eventually(lambda: synced_everywhere(three, customer["id"]), timeout=15)
    await three.quiet()
    customer = await local(three, customer["id"])
    assert (customer["version"], customer["phone"]) == (2, "+1 555 0101")
    await assert_everywhere_equal(three, customer)


async def test_a_stripe_change_reaches_salesforce_through_the_app(three: System) -> None:
    customer = await linked_customer(three)
    async with three.fake.client() as stripe:
        await stripe.v1.customers.update_async(
            customer["sync"]["stripe"]["external_id"], params={"name": "Grace Hopper"}
        )

    async def arrived() -> dict[str, Any] | None:
        found = await synced_everywhere(three, customer["id"])
        return found if found and found["name"] == "Grace Hopper" else None

    assert await eventually(arrived, timeout=15), "the Stripe change never went round"
    await three.quiet()
    final = await local(three, customer["id"])
    assert final["version"] == customer["version"] + 1
    await assert_everywhere_equal(three, final)
    assert three.salesforce is not None
    contact = await three.salesforce.contact_by_local_id(customer["id"])
    assert contact is not None and (contact["FirstName"], contact["LastName"]) == (
        "Grace",
        "Hopper",
    )


async def test_a_salesforce_change_reaches_stripe_through_the_app(three: System) -> None:
    customer = await linked_customer(three)
    assert three.salesforce is not None
    contact_id = customer["sync"]["salesforce"]["external_id"]
    await three.salesforce.edit(contact_id, Phone="+44 20 7946 0000", LastName="Byron")

    async def arrived() -> dict[str, Any] | None:
        found = await synced_everywhere(three, customer["id"])
        return found if found and found["phone"] == "+44 20 7946 0000" else None

    assert await eventually(arrived, timeout=15), "the Salesforce change never went round"
    await three.quiet()
    final = await local(three, customer["id"])
    assert (final["name"], final["version"]) == ("Ada Byron", customer["version"] + 1)
    await assert_everywhere_equal(three, final)


async def test_n_app_edits_make_n_writes_at_each_provider_and_then_quiet(three: System) -> None:
    customer = await linked_customer(three)
    assert three.salesforce is not None
    stripe_calls = len(three.fake.calls)
    salesforce_writes = len(await three.salesforce.api_writes(customer["id"]))

    for n in range(1, EDITS + 1):
        response = await three.api.patch(
            f"/customers/{customer['id']}", json={"name": f"Ada Lovelace{n}"}
        )
        assert response.status_code == 200
    assert await eventually(lambda: synced_everywhere(three, customer["id"]), timeout=15)
    before = await three.quiet()

    external_id = customer["sync"]["stripe"]["external_id"]
    stripe_writes = [c for c in three.fake.calls[stripe_calls:] if c.method == "POST"]
    assert [c.path for c in stripe_writes] == [f"/v1/customers/{external_id}"] * EDITS
    writes = (await three.salesforce.api_writes(customer["id"]))[salesforce_writes:]
    assert len(writes) == EDITS, writes
    final = await local(three, customer["id"])
    assert final["version"] == customer["version"] + EDITS
    await assert_everywhere_equal(three, final)

    await asyncio.sleep(1.0)  # scenario: a loop would keep moving; for 1 s nothing may
    assert await three.snapshot() == before


async def test_concurrent_edits_in_stripe_and_salesforce_to_different_fields_both_survive(
    three: System,
) -> None:
    customer = await linked_customer(three, phone="+1 555 0100")
    assert three.salesforce is not None
    async with three.fake.client() as stripe:
        await asyncio.gather(
            stripe.v1.customers.update_async(
                customer["sync"]["stripe"]["external_id"], params={"email": "ada@stripe.example"}
            ),
            three.salesforce.edit(
                customer["sync"]["salesforce"]["external_id"], Phone="+1 555 0199"
            ),
        )

    async def both_arrived() -> dict[str, Any] | None:
        found = await synced_everywhere(three, customer["id"])
        wanted = ("ada@stripe.example", "+1 555 0199")
        return found if found and (found["email"], found["phone"]) == wanted else None

    assert await eventually(both_arrived, timeout=20), await local(three, customer["id"])
    await three.quiet()
    await assert_everywhere_equal(three, await local(three, customer["id"]))


async def deleted_everywhere(three: System, customer: dict[str, Any]) -> None:
    assert three.salesforce is not None

    async def gone_here() -> bool:
        return (await three.api.get(f"/customers/{customer['id']}")).status_code == 404

    assert await eventually(gone_here, timeout=15), "the delete never reached the app"
    await three.quiet()
    from localstripe.resources import store

    stripe_key = f"customer:{customer['sync']['stripe']['external_id']}"
    assert stripe_key not in store or getattr(store[stripe_key], "deleted", False)
    assert await three.salesforce.contact_by_local_id(customer["id"]) is None
    for work in all_work_queues():
        assert await three.broker.count(work.dead_letter) == 0, work.dead_letter


async def test_an_app_delete_reaches_both(three: System) -> None:
    customer = await linked_customer(three)
    deleted = await three.api.delete(
        f"/customers/{customer['id']}", headers={"If-Match": f'"{customer["version"]}"'}
    )
    assert deleted.status_code == 204, deleted.text
    await deleted_everywhere(three, customer)


async def test_a_stripe_delete_reaches_the_app_and_salesforce(three: System) -> None:
    customer = await linked_customer(three)
    async with three.fake.client() as stripe:
        await stripe.v1.customers.delete_async(customer["sync"]["stripe"]["external_id"])
    await deleted_everywhere(three, customer)


async def test_a_salesforce_delete_reaches_the_app_and_stripe(three: System) -> None:
    customer = await linked_customer(three)
    assert three.salesforce is not None
    await three.salesforce.delete(customer["sync"]["salesforce"]["external_id"], notify=True)
    await deleted_everywhere(three, customer)


async def test_a_validation_error_is_dead_lettered_with_its_code(
    three: System, broker: Broker
) -> None:
    assert three.salesforce is not None
    await three.salesforce.fault(
        400, "INVALID_EMAIL_ADDRESS", "Email: invalid email address", method="PATCH"
    )
    created = await three.api.post("/customers", json={"name": "Ada", "email": "ada@example.com"})
    customer_id = created.json()["id"]

    async def failed() -> dict[str, Any] | None:
        sync = (await local(three, customer_id))["sync"]
        return sync if sync["salesforce"]["status"] == "failed" else None

    sync = await eventually(failed, timeout=15)
    assert sync, "the validation error was never reported"

    async def stripe_synced() -> bool:
        return bool((await local(three, customer_id))["sync"]["stripe"]["status"] == "synced")

    # One provider's refusal holds no other back (the two results arrive in either order).
    assert await eventually(stripe_synced, timeout=15)
    (dead,) = await broker.drain(SALESFORCE_SYNC_QUEUE.dead_letter)
    assert dead.headers[HEADER_REASON] == "salesforce_400_INVALID_EMAIL_ADDRESS"
    assert "Email: invalid email address" in str(dead.headers[HEADER_LAST_ERROR])
    listed = await three.api.get(
        "/customers", params={"sync_status": "failed", "provider": "salesforce"}
    )
    assert [c["id"] for c in listed.json()["data"]] == [customer_id]
    assert await three.salesforce.contact_by_local_id(customer_id) is None


BUDGET, WINDOW_S = 2, 3.0


@pytest.mark.parametrize(
    "salesforce_overrides",
    [{"daily_budget": BUDGET, "budget_window_s": WINDOW_S}],
    ids=["budget-2-per-3s"],
)
async def test_the_daily_budget_makes_work_wait_and_resume(three: System) -> None:
    """Past the budget, writes wait for the window to roll on: none is dead-lettered."""
    assert three.salesforce is not None
    created = [
        (
            await three.api.post("/customers", json={"name": f"Ada {n}", "email": f"a{n}@x.io"})
        ).json()["id"]
        for n in range(BUDGET + 1)
    ]

    async def all_synced() -> bool:
        return all([await synced_everywhere(three, c) for c in created])

    assert await eventually(all_synced, timeout=20), "work past the budget never resumed"
    await three.quiet()
    writes = sorted(
        w["at"] for w in await three.salesforce.api_writes() if w["local_id"] in created
    )
    assert len(writes) == BUDGET + 1
    # The write past the budget went only once the first had left the window.
    assert writes[BUDGET] - writes[0] >= WINDOW_S * 0.95
    for work in all_work_queues():
        assert await three.broker.count(work.dead_letter) == 0, work.dead_letter


async def test_a_contact_made_in_salesforce_gets_its_twoway_id_and_stays_one_contact(
    three: System,
) -> None:
    """A Contact a person makes in Salesforce becomes a customer here (and in Stripe); its
    External ID field gets the customer's id, so an edit made here later updates that Contact
    instead of upserting a second one by an External ID no Contact had."""
    assert three.salesforce is not None
    made = await three.salesforce.create(FirstName="Mary", LastName="Somerville", Email="m@s.org")

    async def imported() -> dict[str, Any] | None:
        listed = (await three.api.get("/customers")).json()["data"]
        found = [c for c in listed if c["email"] == "m@s.org"]
        return await synced_everywhere(three, found[0]["id"]) if found else None

    customer = await eventually(imported, timeout=15, what="the Contact imported and synced")
    await three.quiet()
    contact = await three.salesforce.contact(made["Id"])
    assert contact is not None and contact.get(EXTERNAL_ID) == customer["id"]

    updated = await three.api.patch(f"/customers/{customer['id']}", json={"phone": "+1 555 0102"})
    assert updated.status_code == 200
    assert await eventually(lambda: synced_everywhere(three, customer["id"]), timeout=15)
    await three.quiet()
    final = await local(three, customer["id"])
    contacts = [c for c in await three.salesforce.contacts() if c.get("Email") == "m@s.org"]
    assert [c["Id"] for c in contacts] == [made["Id"]]
    await assert_everywhere_equal(three, final)
