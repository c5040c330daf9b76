"""The hand-off to the broker with a bus that never answers: the delivery must end in a 503."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from services.runtime.bus import Bus, Handler, OutgoingMessage
from services.runtime.settings import ProviderSettings
from services.webhook_gateway.app import create_app
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.topology import WorkQueue
from tests.conftest import serve
from tests.webhook_gateway.events import customer_event, post_signed


class HangingBus(Bus):
    """A broker that took the TCP connection and then went silent."""

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[BaseException | None]:
        await asyncio.sleep(3600)  # scenario: the silent broker never confirms
        return [None for _ in messages]

    async def consume(self, queue: WorkQueue, handler: Handler, prefetch: int) -> None:
        await asyncio.sleep(3600)  # scenario: the silent broker never delivers

    async def ping(self) -> bool:
        return False


async def test_a_silent_broker_is_a_503_within_the_publish_timeout(
    gateway_settings: GatewaySettings, gateway_providers: dict[Provider, ProviderSettings]
) -> None:
    settings = gateway_settings.model_copy(update={"publish_timeout_s": 0.3})
    async with (
        serve(create_app(settings, bus=HangingBus(), providers=gateway_providers)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        started = time.monotonic()
        response = await post_signed(client, customer_event())
        assert response.status_code == 503
        assert time.monotonic() - started < 2
