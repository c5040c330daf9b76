"""Salesforce Outbound Messages at the real gateway, handed to the real RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import defusedxml.ElementTree as SafeXml
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
from tests.webhook_gateway.outbound_messages import (
    INTEGRATION_USER,
    ORG_ID,
    TOKEN,
    contact,
    message,
)

pytestmark = [pytest.mark.rabbitmq]
XML = {"content-type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@pytest.fixture
async def salesforce_gateway(
    gateway_settings: GatewaySettings,
    gateway_providers: dict[Provider, ProviderSettings],
    broker: Broker,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings.model_copy(update={"providers": (STRIPE, SALESFORCE)})
    salesforce = SalesforceSettings(
        salesforce_org_id=ORG_ID,
        salesforce_webhook_token=TOKEN,
        salesforce_integration_user_id=INTEGRATION_USER,
    )
    app = create_app(settings, providers={**gateway_providers, SALESFORCE: salesforce})
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def acked(response: httpx.Response) -> bool:
    root = SafeXml.fromstring(response.content)
    ack = root.find(".//{http://soap.sforce.com/2005/09/outbound}Ack")
    return response.status_code == 200 and ack is not None and ack.text == "true"


async def post(client: httpx.AsyncClient, body: bytes, token: str = TOKEN) -> httpx.Response:
    return await client.post(f"/webhooks/salesforce/{token}", content=body, headers=XML)


async def test_a_hundred_notifications_become_a_hundred_commands_then_the_ack(
    salesforce_gateway: httpx.AsyncClient, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE, "inbound.salesforce.#")
    body = message(
        *(contact(f"003TW{i:013d}", last=f"Lovelace {i}", email=f"a{i}@x.io") for i in range(100))
    )
    response = await post(salesforce_gateway, body)
    assert acked(response), response.text
    commands = [parse_command(m.body) for m in await tap.collect(100)]
    assert len(commands) == 100 and all(isinstance(c, Upsert) for c in commands)
    first = commands[0]
    assert isinstance(first, Upsert)
    assert (first.provider, first.entity, first.external_id) == (
        "salesforce",
        "customer",
        "003TW0000000000000",
    )
    assert first.data == {
        "name": "Ada Lovelace 0",
        "email": "a0@x.io",
        "phone": None,
        "metadata": {},
    }
    assert first.provider_event_id == "04lTW0000000000000"  # the notification's own id
    assert first.clock_resolution_s == 0.001
    assert len({c.provider_event_id for c in commands}) == 100


async def test_twoways_own_changes_are_acked_and_not_taken_back(
    salesforce_gateway: httpx.AsyncClient, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE, "inbound.salesforce.#")
    body = message(contact(user=INTEGRATION_USER), contact("003TW0000000002AAA", deleted=True))
    assert acked(await post(salesforce_gateway, body))
    (only,) = [parse_command(m.body) for m in await tap.quiet(0.5)]
    assert isinstance(only, Delete) and only.external_id == "003TW0000000002AAA"


@pytest.mark.parametrize(
    ("body", "token", "status"),
    [
        (message(contact()), "tok-wrong-wrong-wrong-wrong", 401),
        (message(contact(), org_id="00DXX0000000009YAA"), TOKEN, 401),
        (b"<not-xml", TOKEN, 400),
        (message(), TOKEN, 400),  # no notification
        (message(*[contact(f"003TW{i:013d}") for i in range(101)]), TOKEN, 400),
    ],
    ids=["wrong-token", "wrong-org", "malformed", "empty", "101-notifications"],
)
async def test_refused_messages_publish_nothing(
    salesforce_gateway: httpx.AsyncClient, broker: Broker, body: bytes, token: str, status: int
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE, "inbound.#")
    response = await post(salesforce_gateway, body, token)
    assert response.status_code == status
    assert "error" in response.json()
    assert await tap.quiet(0.3) == []


@pytest.mark.parametrize(
    "bomb",
    [
        # Billion laughs: entities expanding exponentially.
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<lolz>&lol3;</lolz>",
        # An external entity reading a local file.
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<x>&xxe;</x>",
    ],
    ids=["billion-laughs", "external-entity"],
)
async def test_xml_bombs_are_refused_unexpanded(
    salesforce_gateway: httpx.AsyncClient, broker: Broker, bomb: bytes
) -> None:
    response = await post(salesforce_gateway, bomb)
    assert response.status_code == 400
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == "malformed_payload"
    assert "passwd" not in response.text and "lol" not in response.text


async def test_without_salesforce_enabled_there_is_no_route(gateway: httpx.AsyncClient) -> None:
    response = await post(gateway, message(contact()))
    assert response.status_code in (404, 405)
