"""The gateway's /metrics: every delivery counted once, by outcome."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import Broker
from tests.scrape import delta, scrape
from tests.webhook_gateway.events import customer_event, post_signed

pytestmark = [pytest.mark.rabbitmq]

WEBHOOKS = "twoway_webhooks_total"


async def test_deliveries_are_counted_by_outcome(
    gateway: httpx.AsyncClient, broker: Broker
) -> None:
    before = await scrape(gateway)
    for _ in range(2):
        assert (await post_signed(gateway, customer_event())).status_code == 200
    bad = await post_signed(gateway, customer_event(), secret="whsec_someone_else")
    assert bad.status_code == 400
    assert (await post_signed(gateway, b"{not json")).status_code == 400
    ignored = {"id": "evt_x", "type": "invoice.paid", "created": int(time.time()), "data": {}}
    assert (await post_signed(gateway, ignored)).status_code == 200
    after = await scrape(gateway)

    def counted(outcome: str) -> float:
        return delta(before, after, WEBHOOKS, provider="stripe", outcome=outcome)

    assert counted("accepted") == 2
    assert counted("bad_signature") == 1
    assert counted("malformed_payload") == 1
    assert counted("ignored") == 1
    assert counted("broker_unavailable") == 0
