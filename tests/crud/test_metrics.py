"""The CRUD process's /metrics: Prometheus text that moves under traffic, on its own port."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Broker
from tests.crud.test_outbox import all_published
from tests.scrape import metrics_url, sample, scrape
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def test_metrics_move_under_traffic(crud: httpx.AsyncClient, broker: Broker) -> None:
    url = metrics_url(crud)
    published = sample(await scrape(crud, url), "twoway_events_published_total")
    for i in range(3):
        await crud.post("/customers", json={"name": "m", "email": f"m{i}@x.io"})
    assert await eventually(all_published)
    after = await scrape(crud, url)
    assert sample(after, "twoway_events_published_total") == published + 3
    assert sample(after, "twoway_outbox_backlog") == 0
    assert sample(after, "twoway_outbox_oldest_age_seconds") == 0


async def test_metrics_are_not_on_the_api_port(crud: httpx.AsyncClient) -> None:
    # Each scrape counts the outbox: no caller of the API may make the database do that.
    assert (await crud.get("/metrics")).status_code == 404
    async with httpx.AsyncClient(base_url=str(crud.base_url)) as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 401
