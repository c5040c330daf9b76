"""The fake Salesforce's Outbound Messages at twoway's real gateway: acked, and a person's
edit becomes an inbound command (twoway's own write does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.runtime.settings import ProviderSettings
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.settings import SalesforceSettings
from services.stripe_sync.names import STRIPE
from services.webhook_gateway.app import create_app
from services.webhook_gateway.settings import GatewaySettings
from shared.commands import Delete, Upsert, parse_command
from shared.kinds import Provider
from shared.topology import COMMANDS_EXCHANGE
from tests.conftest import Broker, serve
from tests.dev.fake_salesforce.conftest import API
from tests.fakes.salesforce_fake import SalesforceFake

pytestmark = [pytest.mark.rabbitmq]
TOKEN = "tok-" + "fake" * 6


@pytest.fixture
async def wired_gateway(
    gateway_settings: GatewaySettings,
    gateway_providers: dict[Provider, ProviderSettings],
    broker: Broker,
    salesforce_fake: SalesforceFake,
) -> AsyncIterator[str]:
    """The gateway taking Salesforce's messages from the fake, which sends them there."""
    settings = gateway_settings.model_copy(update={"providers": (STRIPE, SALESFORCE)})
    salesforce = SalesforceSettings(
        salesforce_org_id=salesforce_fake.org_id,
        salesforce_webhook_token=TOKEN,
        salesforce_integration_user_id=salesforce_fake.integration_user_id,
    )
    app = create_app(settings, providers={**gateway_providers, SALESFORCE: salesforce})
    async with serve(app) as url:
        await salesforce_fake.configure(outbound_url=f"{url}/webhooks/salesforce/{TOKEN}")
        yield url


async def test_the_gateway_acks_and_a_persons_edit_becomes_a_command(
    wired_gateway: str, salesforce_fake: SalesforceFake, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE, "inbound.salesforce.#")
    contact = await salesforce_fake.create(
        FirstName="Ada", LastName="Lovelace", Email="ada@example.com", Twoway_Id__c="cus_1"
    )
    edited = await salesforce_fake.edit(contact["Id"], Phone="+44 20 7946 0000")
    await salesforce_fake.settle()
    deliveries = await salesforce_fake.deliveries()
    assert deliveries and all(d["acked"] for d in deliveries)
    commands = [parse_command(m.body) for m in await tap.collect(2)]
    assert len(commands) == 2 and all(isinstance(c, Upsert) for c in commands)
    last = commands[-1]
    assert isinstance(last, Upsert)
    assert (last.external_id, last.local_id) == (contact["Id"], "cus_1")
    assert last.data["name"] == "Ada Lovelace"
    assert last.data["phone"] == "+44 20 7946 0000"
    assert last.occurred_at.isoformat(timespec="milliseconds").startswith(
        edited["SystemModstamp"].removesuffix("Z")
    )
    sent_ids = {n for d in deliveries for n in d["notification_ids"]}
    assert {c.provider_event_id for c in commands} == sent_ids


async def test_twoways_own_writes_are_acked_but_not_taken_back(
    wired_gateway: str, salesforce_fake: SalesforceFake, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE, "inbound.salesforce.#")
    async with httpx.AsyncClient(base_url=salesforce_fake.url) as http:
        form = {"grant_type": "client_credentials", "client_id": salesforce_fake.client_id,
                "client_secret": salesforce_fake.client_secret}  # fmt: skip
        token = (await http.post("/services/oauth2/token", data=form)).json()["access_token"]
        written = await http.patch(
            f"{API}/sobjects/Contact/Twoway_Id__c/cus_1",
            json={"LastName": "Lovelace"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert written.status_code == 201
    human = await salesforce_fake.create(LastName="Hopper")
    await salesforce_fake.settle()  # sent before the delete (a message has the latest values)
    await salesforce_fake.delete(human["Id"])
    await salesforce_fake.settle()
    deliveries = await salesforce_fake.deliveries()
    assert deliveries and all(d["acked"] for d in deliveries)
    assert sum(len(d["notification_ids"]) for d in deliveries) == 3
    await tap.collect(2)
    commands = [parse_command(m.body) for m in await tap.quiet(0.3)]
    assert [type(c) for c in commands] == [Upsert, Delete]
    assert {c.external_id for c in commands} == {human["Id"]}
