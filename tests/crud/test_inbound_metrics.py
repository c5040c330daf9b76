"""Inbound commands counted by apply's outcome, scraped from the CRUD process's /metrics."""

from __future__ import annotations

import httpx
import pytest

from tests.scrape import delta, metrics_url, scrape
from tests.waiting import eventually
from tests.webhook_gateway.events import customer_event, post_signed

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

COMMANDS = "twoway_inbound_commands_total"


async def test_a_redelivered_event_counts_as_applied_then_duplicate(
    crud_inbound: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> None:
    before = await scrape(crud_inbound, metrics_url(crud_inbound))
    event = customer_event("customer.created", "cus_m1", email="m1@example.com")
    for _ in range(2):  # Stripe delivers at least once
        assert (await post_signed(gateway, event)).status_code == 200

    def counted(after: str, result: str) -> float:
        return delta(before, after, COMMANDS, provider="stripe", result=result)

    async def both_settled() -> bool:
        after = await scrape(crud_inbound, metrics_url(crud_inbound))
        return counted(after, "applied") + counted(after, "duplicate") >= 2

    assert await eventually(both_settled)
    after = await scrape(crud_inbound, metrics_url(crud_inbound))
    assert counted(after, "applied") == 1
    assert counted(after, "duplicate") == 1
    assert counted(after, "stale") == 0
