"""The gateway's /metrics: every delivery counted once, by outcome, on a port of its own."""

from __future__ import annotations

import time

import httpx
import pytest

from services.runtime.settings import ProviderSettings
from services.webhook_gateway.app import create_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from tests.conftest import Broker, serve
from tests.scrape import delta, free_port, scrape
from tests.webhook_gateway.events import customer_event, post_signed

pytestmark = [pytest.mark.rabbitmq]

WEBHOOKS = "twoway_webhooks_total"


async def test_deliveries_are_counted_by_outcome(
    gateway_settings: GatewaySettings,
    gateway_providers: dict[Provider, ProviderSettings],
    broker: Broker,
) -> None:
    port = free_port()
    settings = gateway_settings.model_copy(update={"metrics_port": port})
    async with (
        serve(create_app(settings, providers=gateway_providers), settings) as url,
        httpx.AsyncClient(base_url=url) as gateway,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as metrics,
    ):
        assert (await gateway.get("/metrics")).status_code == 404  # not on the public port
        before = await scrape(metrics)
        for _ in range(2):
            assert (await post_signed(gateway, customer_event())).status_code == 200
        bad = await post_signed(gateway, customer_event(), secret="whsec_someone_else")
        assert bad.status_code == 400
        assert (await post_signed(gateway, b"{not json")).status_code == 400
        ignored = {"id": "evt_x", "type": "invoice.paid", "created": int(time.time()), "data": {}}
        assert (await post_signed(gateway, ignored)).status_code == 200
        live = {**customer_event(), "livemode": True}
        assert (await post_signed(gateway, live)).status_code == 200
        after = await scrape(metrics)

    def counted(outcome: str) -> float:
        return delta(before, after, WEBHOOKS, provider="stripe", outcome=outcome)

    assert counted("accepted") == 2
    assert counted("bad_signature") == 1
    assert counted("malformed_payload") == 1
    assert counted("ignored") == 1
    assert counted("livemode_mismatch") == 1
    assert counted("broker_unavailable") == 0
