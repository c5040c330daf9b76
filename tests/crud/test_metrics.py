"""The CRUD process's /metrics: Prometheus text that moves under traffic."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Broker, eventually
from tests.crud.test_outbox import all_published
from tests.scrape import sample, scrape

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def test_metrics_move_under_traffic(crud: httpx.AsyncClient, broker: Broker) -> None:
    published = sample(await scrape(crud), "twoway_events_published_total")
    for i in range(3):
        await crud.post("/customers", json={"name": "m", "email": f"m{i}@x.io"})
    assert await eventually(all_published)
    after = await scrape(crud)
    assert sample(after, "twoway_events_published_total") == published + 3
    assert sample(after, "twoway_outbox_backlog") == 0
    assert sample(after, "twoway_outbox_oldest_age_seconds") == 0
