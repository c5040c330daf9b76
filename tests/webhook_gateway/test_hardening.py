"""The gateway faces the internet: rotated secrets, events that are not ours, and clients that
hold connections open (slow headers, slow bodies, too many at once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from services.runtime.settings import ConfigError, ProviderSettings, load
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from services.stripe_sync.webhooks import from_settings
from services.webhook_gateway.app import create_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.topology import COMMANDS_EXCHANGE
from tests.conftest import WEBHOOK_SECRET, Broker, serve
from tests.waiting import eventually
from tests.webhook_gateway.events import customer_event, post_signed

pytestmark = [pytest.mark.rabbitmq]


@pytest.fixture
def stripe(gateway_providers: dict[Provider, ProviderSettings]) -> ProviderSettings:
    return gateway_providers[STRIPE]


@contextlib.asynccontextmanager
async def gateway_with(
    settings: GatewaySettings, stripe: ProviderSettings, **changes: object
) -> AsyncIterator[str]:
    """The gateway with ``changes`` to its settings or Stripe's (validated, unlike a copy)."""
    ours = {k: v for k, v in changes.items() if k in GatewaySettings.model_fields}
    theirs = {k: v for k, v in changes.items() if k not in ours}
    changed = GatewaySettings(**{**settings.model_dump(), **ours})
    own = StripeSettings(**{**stripe.model_dump(), **theirs})
    async with serve(create_app(changed, providers={STRIPE: own}), changed) as url:
        yield url


async def test_any_of_the_configured_secrets_verifies(
    gateway_settings: GatewaySettings, stripe: ProviderSettings, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    rotating = f"whsec_new_one, {WEBHOOK_SECRET}"
    async with (
        gateway_with(gateway_settings, stripe, stripe_webhook_secret=rotating) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        assert (await post_signed(client, customer_event())).status_code == 200
        assert (
            await post_signed(client, customer_event(), secret="whsec_new_one")
        ).status_code == 200
        retired = await post_signed(client, customer_event(), secret="whsec_retired")
        assert retired.status_code == 400
    assert len(await tap.collect(2)) == 2
    assert await tap.quiet(0.3) and len(tap.messages) == 2


def test_the_secret_list_must_hold_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", " , ")
    with pytest.raises(ConfigError) as info:
        load(StripeSettings, stripe_mode="test")
    assert "STRIPE_WEBHOOK_SECRET" in str(info.value)


@pytest.mark.parametrize(
    ("key", "mode"),
    [("sk_test_x", "test"), ("rk_test_x", "test"), ("sk_live_x", "live"), ("rk_live_x", "live")],
)
def test_the_mode_defaults_from_the_key_prefix(key: str, mode: str) -> None:
    settings = load(StripeSettings, stripe_webhook_secret="whsec_x", stripe_api_key=key)
    assert settings.stripe_mode == mode
    assert key not in repr(settings)


def test_without_a_key_the_mode_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPE_API_KEY", "STRIPE_RESTRICTED_KEY", "TWOWAY_STRIPE_MODE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="TWOWAY_STRIPE_MODE"):
        from_settings(load(StripeSettings, stripe_webhook_secret="whsec_x"))


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        ({"livemode": True}, "livemode_mismatch"),
        ({"account": "acct_not_ours"}, "unknown_account"),
    ],
)
async def test_events_that_are_not_ours_are_2xx_and_ignored(
    gateway: httpx.AsyncClient,
    broker: Broker,
    caplog: pytest.LogCaptureFixture,
    extra: dict[str, object],
    outcome: str,
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    with caplog.at_level(logging.WARNING):
        response = await post_signed(gateway, {**customer_event(), **extra})
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": outcome}
    assert [r.reason for r in caplog.records if hasattr(r, "reason")] == [outcome]
    assert await tap.quiet(0.3) == []


async def test_a_configured_connect_account_and_the_right_mode_are_applied(
    gateway_settings: GatewaySettings, stripe: ProviderSettings, broker: Broker
) -> None:
    tap = await broker.tap(COMMANDS_EXCHANGE)
    async with (
        gateway_with(
            gateway_settings, stripe, stripe_mode="live", stripe_connect_accounts="acct_1, acct_2"
        ) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        for extra in ({"livemode": True}, {"livemode": True, "account": "acct_2"}):
            assert (await post_signed(client, {**customer_event(), **extra})).status_code == 200
        test_mode = await post_signed(client, {**customer_event(), "livemode": False})
        assert test_mode.json()["reason"] == "livemode_mismatch"
    assert len(await tap.collect(2)) == 2
    assert len(await tap.quiet(0.3)) == 2


async def test_a_non_ascii_signature_header_is_a_bad_signature(
    gateway: httpx.AsyncClient, broker: Broker
) -> None:
    raw = b'{"id": "evt_1"}'
    url = str(gateway.base_url).rstrip("/") + "/webhooks/stripe"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url,
            content=raw,
            headers=[
                (b"content-type", b"application/json"),
                (b"stripe-signature", b"t=1,v1=\xff\xfe"),
            ],
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"


async def raw_exchange(port: int, chunks: list[bytes], pause: float) -> tuple[bytes, int]:
    """Send ``chunks`` with ``pause`` seconds between them, until the server closes the
    connection; what it answered, and how many chunks it let the client send."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = b""
    try:
        for sent, chunk in enumerate(chunks):
            if reader.at_eof():
                return answer, sent
            writer.write(chunk)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            with contextlib.suppress(TimeoutError):
                answer += await asyncio.wait_for(reader.read(65536), pause)
        return answer, len(chunks)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_a_slow_body_is_cut_off_at_the_deadline(
    gateway_settings: GatewaySettings, stripe: ProviderSettings, broker: Broker
) -> None:
    head = (
        b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Stripe-Signature: t=1,v1=00\r\nContent-Length: 1000\r\n\r\n"
    )
    async with gateway_with(gateway_settings, stripe, http_body_timeout_s=0.5) as url:
        chunks = [head] + [b"{"] * 30  # three seconds of upload
        answer, sent = await raw_exchange(port_of(url), chunks, pause=0.1)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"body_timeout"' in answer
    assert sent < len(chunks), "the connection stayed open for the whole slow upload"


async def test_a_slow_request_head_is_cut_off(
    gateway_settings: GatewaySettings, stripe: ProviderSettings, broker: Broker
) -> None:
    head = b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\n"
    async with gateway_with(gateway_settings, stripe, http_keepalive_s=1) as url:
        trickle = [head[i : i + 1] for i in range(len(head))]  # about four seconds
        answer, sent = await raw_exchange(port_of(url), trickle, pause=0.1)
    assert answer == b""  # closed without an answer
    assert sent < len(trickle), "the connection stayed open for the whole slow head"


async def test_connections_past_the_cap_get_503(
    gateway_settings: GatewaySettings, stripe: ProviderSettings, broker: Broker
) -> None:
    async with gateway_with(gateway_settings, stripe, http_max_concurrency=2) as url:
        held = [await asyncio.open_connection("127.0.0.1", port_of(url)) for _ in range(2)]
        try:
            async with httpx.AsyncClient(base_url=url) as client:
                response = await client.get("/healthz")
            assert response.status_code == 503
        finally:
            for _, writer in held:
                writer.close()
        async with httpx.AsyncClient(base_url=url) as client:

            async def answered() -> bool:
                return (await client.get("/healthz")).status_code == 200

            await eventually(answered, what="a 200 once the held connections closed")
