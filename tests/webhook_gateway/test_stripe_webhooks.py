"""POST /webhooks/stripe against a real RabbitMQ: what is answered, and what reaches the broker."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from services.runtime.settings import ProviderSettings
from services.stripe_sync.settings import StripeSettings
from services.webhook_gateway.app import create_app
from services.webhook_gateway.settings import GatewaySettings
from shared.commands import Delete, Upsert, parse_command
from shared.kinds import Provider
from shared.topology import COMMANDS_EXCHANGE
from tests.conftest import WEBHOOK_SECRET, Broker, serve
from tests.fakes.stripe_fake import FakeStripe, sign
from tests.webhook_gateway.events import customer_event, post_signed, webhook_url

pytestmark = [pytest.mark.rabbitmq]


async def test_customer_event_becomes_one_confirmed_command(
    gateway: httpx.AsyncClient, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    event = customer_event(
        "customer.updated",
        created=1_700_000_000,
        name="Ada",
        phone="+44 1",
        metadata={"twoway_id": "local-1", "plan": "pro"},
    )
    response = await post_signed(gateway, event)
    assert response.status_code == 200, response.text
    (message,) = await tap.collect(1)
    assert message.routing_key == "inbound.stripe.customer.upsert"
    assert message.message_id == f"stripe:{event['id']}"
    command = parse_command(message.body)
    assert isinstance(command, Upsert)
    assert command.provider_event_id == event["id"] and command.external_id == "cus_test1"
    assert command.local_id == "local-1"
    assert command.occurred_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert command.data["name"] == "Ada" and command.data["phone"] == "+44 1"
    # twoway's own bookkeeping key is not the user's metadata.
    assert command.data["metadata"] == {"plan": "pro"}
    assert not command.initial


async def test_empty_strings_unset_as_at_stripe(gateway: httpx.AsyncClient, broker: Broker) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    event = customer_event(
        "customer.updated", name="Ada", phone="", metadata={"plan": "pro", "team": ""}
    )
    assert (await post_signed(gateway, event)).status_code == 200
    (message,) = await tap.collect(1)
    command = parse_command(message.body)
    assert isinstance(command, Upsert)
    assert command.data["phone"] is None
    assert command.data["metadata"] == {"plan": "pro"}


async def test_delete_and_create_events(gateway: httpx.AsyncClient, broker: Broker) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    assert (await post_signed(gateway, customer_event("customer.created"))).status_code == 200
    assert (await post_signed(gateway, customer_event("customer.deleted"))).status_code == 200
    created, deleted = [parse_command(m.body) for m in await tap.collect(2)]
    assert isinstance(created, Upsert) and created.initial
    assert isinstance(deleted, Delete)
    assert tap.messages[1].routing_key == "inbound.stripe.customer.delete"


SIGNATURE_CASES: list[tuple[str, dict[str, object]]] = [
    ("missing", {"signed": False}),
    ("empty", {"header": ""}),
    ("garbage", {"header": "nonsense"}),
    ("no v1", {"header": "t=1700000000,v0=abc"}),
    ("wrong secret", {"secret": "whsec_other"}),
    ("expired", {"skew": -301}),
    ("future", {"skew": 301}),
]


@pytest.mark.parametrize(("case", "kwargs"), SIGNATURE_CASES, ids=[c for c, _ in SIGNATURE_CASES])
async def test_bad_signatures_are_400_and_publish_nothing(
    gateway: httpx.AsyncClient, broker: Broker, case: str, kwargs: dict[str, object]
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    response = await post_signed(gateway, customer_event(), **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400, (case, response.text)
    assert response.json()["error"]["code"] == "bad_signature"
    assert await tap.quiet(0.2) == []


async def test_tampered_body_is_400(gateway: httpx.AsyncClient, broker: Broker) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    raw = json.dumps(customer_event()).encode()
    header = sign(raw, WEBHOOK_SECRET, int(time.time()))
    tampered = raw.replace(b"Ada Lovelace", b"Eve Mallory")
    response = await post_signed(gateway, tampered, header=header)
    assert response.status_code == 400
    assert await tap.quiet(0.2) == []


async def test_signature_within_tolerance_is_accepted(gateway: httpx.AsyncClient) -> None:
    for skew in (-290, 290):
        response = await post_signed(gateway, customer_event(), skew=skew)
        assert response.status_code == 200, (skew, response.text)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'{"type": "customer.created", "created": 1, "data": {}}',
        b'{"id": "evt_1", "type": "customer.created", "created": "soon", "data": {}}',
        b'{"id": "evt_1", "type": "customer.created", "created": 1, "data": {}}',
        b'{"id": "evt_1", "type": "customer.updated", "created": 1, '
        b'"data": {"object": {"id": "cus_1", "metadata": {"k": 5}}}}',
    ],
)
async def test_malformed_signed_bodies_are_400_and_publish_nothing(
    gateway: httpx.AsyncClient, broker: Broker, raw: bytes
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    response = await post_signed(gateway, raw)
    assert response.status_code == 400, response.text
    assert await tap.quiet(0.2) == []


async def test_body_over_one_mib_is_413(gateway: httpx.AsyncClient, broker: Broker) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    event = customer_event(metadata={"pad": "x" * (1024 * 1024)})
    response = await post_signed(gateway, event)
    assert response.status_code == 413
    assert await tap.quiet(0.2) == []


@pytest.mark.parametrize("kind", ["invoice.paid", "price.created", "customer.source.created"])
async def test_unhandled_event_types_are_2xx_and_ignored(
    gateway: httpx.AsyncClient, broker: Broker, kind: str
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    event = {"id": "evt_x", "type": kind, "created": int(time.time()), "data": {"object": {}}}
    response = await post_signed(gateway, event)
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert await tap.quiet(0.2) == []


async def test_a_redelivery_is_published_again_with_the_same_message_id(
    gateway: httpx.AsyncClient, broker: Broker
) -> None:
    # The gateway keeps no state: deduplication is the inbox's job, keyed on the event id.
    tap = await broker.tap(COMMANDS_EXCHANGE)
    event = customer_event()
    for _ in range(2):
        assert (await post_signed(gateway, event)).status_code == 200
    first, second = await tap.collect(2)
    assert first.message_id == second.message_id == f"stripe:{event['id']}"


async def test_broker_down_is_503_and_not_ready(
    gateway_settings: GatewaySettings, gateway_providers: dict[Provider, ProviderSettings]
) -> None:
    closed = gateway_settings.model_copy(
        update={"amqp_url": gateway_settings.amqp_url.__class__("amqp://guest:guest@127.0.0.1:1/")}
    )
    app = create_app(closed, providers=gateway_providers)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await post_signed(client, customer_event())
        assert response.status_code == 503
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503


async def test_ready_with_the_broker_up(gateway: httpx.AsyncClient) -> None:
    ready = await gateway.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"broker": True}


async def test_secret_setting_names_and_secrecy(
    monkeypatch: pytest.MonkeyPatch,
    gateway: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("TWOWAY_STRIPE_MODE", "test")
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_from_the_seed_design")
    settings = StripeSettings()
    assert settings.webhook_secrets == (SecretStr("whsec_from_the_seed_design"),)
    assert "whsec_from_the_seed_design" not in repr(settings)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_preferred")
    assert StripeSettings().webhook_secrets == (SecretStr("whsec_preferred"),)
    with caplog.at_level(logging.DEBUG):
        await post_signed(gateway, customer_event(), secret="whsec_other")
        await post_signed(gateway, customer_event())
    assert caplog.records and WEBHOOK_SECRET not in caplog.text


# stripe 16's HTTPXClient passes bytes as data=, which httpx 0.28 deprecates.
STRIPE_SDK_WARNING = "ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"


@pytest.mark.localstripe
@pytest.mark.filterwarnings(STRIPE_SDK_WARNING)
async def test_localstripe_signed_webhooks_reach_the_broker(
    gateway: httpx.AsyncClient, broker: Broker, fake_stripe: FakeStripe
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    await fake_stripe.register_webhook(webhook_url(gateway), WEBHOOK_SECRET)
    async with fake_stripe.client() as client:
        customer = await client.v1.customers.create_async(
            params={"name": "Grace", "email": "grace@example.com", "metadata": {"twoway_id": "l-9"}}
        )
        await client.v1.customers.update_async(customer.id, params={"name": "Grace Hopper"})
        await client.v1.customers.delete_async(customer.id)
    await fake_stripe.settle()
    assert [r.status_code for r in fake_stripe.deliveries] == [200, 200, 200]  # type: ignore[union-attr]
    commands = [parse_command(m.body) for m in await tap.collect(3)]
    assert {c.external_id for c in commands} == {customer.id}
    assert {c.local_id for c in commands} == {"l-9"}
    assert {c.entity for c in commands} == {"customer"}
    assert sorted(c.type for c in commands) == [
        "inbound.delete",
        "inbound.upsert",
        "inbound.upsert",
    ]
