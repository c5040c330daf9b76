"""Every twoway service at once, as one deployment would run them, in the test's process.

CRUD (API, relay, inbound, sync results), the webhook gateway and the stripe_sync worker run on
the real MariaDB and RabbitMQ; localstripe stands in for Stripe and sends its signed webhooks to
the gateway. :class:`System` knows how to wait until nothing is moving any more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from services.crud.app import Roles
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.migrate import all_model_modules
from services.runtime.db import close_db, init_db
from services.runtime.providers import default_work_queues
from services.stripe_sync.main import main as stripe_sync_main
from services.stripe_sync.settings import StripeSettings
from shared.topology import WorkQueue
from tests.conftest import (
    TEST_RETRY_DELAYS_MS,
    WEBHOOK_SECRET,
    Broker,
    crud_with,
    truncate_all,
)
from tests.fakes.salesforce_fake import SalesforceFake
from tests.fakes.stripe_fake import FakeStripe
from tests.stripe_sync.conftest import sync_settings  # noqa: F401  (the worker's, on the fake)
from tests.waiting import WaitTimedOut, eventually
from tests.webhook_gateway.events import webhook_url


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """Every service's tables, all empty, on one pool (the services share it in this process)."""
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    await truncate_all()
    try:
        yield
    finally:
        await close_db()


def _counter(name: str, queue: str) -> float:
    """A worker metric summed over its other labels (0 before the first sample)."""
    total = 0.0
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == name and sample.labels.get("queue") == queue:
                total += sample.value
    return total


@dataclass(frozen=True)
class Snapshot:
    """What is moving, and how much has moved, at one moment."""

    unpublished: int
    outbox_rows: int
    webhooks_pending: int
    stripe_calls: int
    webhooks_delivered: int
    ready: tuple[int, ...]
    consumed: tuple[float, ...]
    settled: tuple[float, ...]
    salesforce_pending: int = 0
    salesforce_calls: int = 0

    @property
    def idle(self) -> bool:
        in_flight = (c - s for c, s in zip(self.consumed, self.settled, strict=True))
        return (
            self.unpublished == 0
            and self.webhooks_pending == 0
            and self.salesforce_pending == 0
            and not any(self.ready)
            and not any(in_flight)
        )


class System:
    """The running services, and the means to tell when they have all gone quiet."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        fake: FakeStripe,
        broker: Broker,
        retry_delays_ms: tuple[int, ...] = TEST_RETRY_DELAYS_MS,
        queues: Sequence[WorkQueue] | None = None,
        salesforce: SalesforceFake | None = None,
    ) -> None:
        self.api = api
        self.fake = fake
        self.salesforce = salesforce
        self.broker = broker
        queues = default_work_queues() if queues is None else queues
        self.queues = [w.name for w in queues]
        self.waiting = [w.retry_queue(d) for w in queues for d in retry_delays_ms]
        # Handlers cut short by earlier tests' shutdowns never settle: count from here.
        self._consumed0 = [_counter("twoway_messages_consumed_total", q) for q in self.queues]
        self._settled0 = [_counter("twoway_messages_settled_total", q) for q in self.queues]

    async def snapshot(self) -> Snapshot:
        unpublished = await OutboxEvent.filter(published_at__isnull=True).count()
        outbox_rows = await OutboxEvent.all().count()
        ready = [await self.broker.count(q) for q in self.queues + self.waiting]
        sf_pending = sf_calls = 0
        if self.salesforce is not None:
            sf_pending = await self.salesforce.pending()
            sf_calls = len(await self.salesforce.requests())
        return Snapshot(
            unpublished=unpublished,
            outbox_rows=outbox_rows,
            webhooks_pending=self.fake.delivering,
            stripe_calls=len(self.fake.calls),
            webhooks_delivered=len(self.fake.deliveries),
            ready=tuple(ready),
            consumed=tuple(
                _counter("twoway_messages_consumed_total", q) - c0
                for q, c0 in zip(self.queues, self._consumed0, strict=True)
            ),
            settled=tuple(
                _counter("twoway_messages_settled_total", q) - s0
                for q, s0 in zip(self.queues, self._settled0, strict=True)
            ),
            salesforce_pending=sf_pending,
            salesforce_calls=sf_calls,
        )

    async def quiet(self, timeout: float = 10.0, gap: float = 0.1) -> Snapshot:
        """Wait until nothing moves: no unpublished outbox row, no webhook delivery under way,
        every work and retry queue empty, every delivered message settled, and all of it the
        same in two readings ``gap`` seconds apart (a message in the broker's hands between a
        queue and its consumer shows in neither)."""
        seen: list[Snapshot] = []

        async def still() -> Snapshot | None:
            await self.fake.settle()
            if self.salesforce is not None:
                await self.salesforce.settle()
            seen.append(await self.snapshot())
            current, previous = seen[-1], seen[-2] if len(seen) > 1 else None
            return current if current.idle and current == previous else None

        try:
            quiet: Snapshot | None = await eventually(still, timeout, gap, what="quiet")
        except WaitTimedOut:
            raise WaitTimedOut(f"the system did not go quiet: {seen[-1]}") from None
        assert quiet is not None
        return quiet


@pytest.fixture
async def system(
    settings: CrudSettings,
    db: None,
    broker: Broker,
    gateway: httpx.AsyncClient,
    fake_stripe: FakeStripe,
    sync_settings: StripeSettings,  # noqa: F811  (the fixture imported above)
) -> AsyncIterator[System]:
    """CRUD with every role, the gateway, the stripe_sync worker and localstripe's webhooks."""
    await fake_stripe.register_webhook(webhook_url(gateway), WEBHOOK_SECRET)
    roles = Roles(own_database=False, inbound=True, sync_results=True)
    async with crud_with(settings, roles) as api:
        worker = asyncio.create_task(stripe_sync_main(sync_settings, own_database=False))
        system = System(api, fake_stripe, broker, settings.retry_delays_ms)
        try:
            yield system
            # Whatever a failed test left moving settles before the services stop.
            with contextlib.suppress(AssertionError):
                await system.quiet(timeout=5)
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)


def stripe_state(external_id: str) -> dict[str, Any]:
    """A customer as localstripe holds it (read from its store: no request, no log entry)."""
    from localstripe.resources import store

    customer = store[f"customer:{external_id}"]
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "metadata": dict(customer.metadata or {}),
    }
