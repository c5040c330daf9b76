"""The CRUD process's /metrics: Prometheus text that moves under traffic."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Broker, eventually
from tests.crud.test_outbox import all_published

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


def sample(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} missing"
    return float(match.group(1))


async def test_metrics_move_under_traffic(crud: httpx.AsyncClient, broker: Broker) -> None:
    first = await crud.get("/metrics")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
    published = sample(first.text, "twoway_events_published_total")
    for i in range(3):
        await crud.post("/customers", json={"name": "m", "email": f"m{i}@x.io"})
    assert await eventually(all_published)
    after = (await crud.get("/metrics")).text
    assert sample(after, "twoway_events_published_total") == published + 3
    assert sample(after, "twoway_outbox_backlog") == 0
    assert sample(after, "twoway_outbox_oldest_age_seconds") == 0
