"""Fixtures for the stripe_sync worker: its table, running workers, events, Stripe's state."""

from __future__ import annotations

import asyncio
import types
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.crud.settings import CrudSettings
from services.migrate import all_model_modules
from services.runtime.amqp import AmqpBus
from services.runtime.budget import LaneBudget
from services.runtime.bus import OutgoingMessage
from services.runtime.db import close_db, init_db
from services.runtime.links.models import ExternalLink
from services.stripe_sync.main import main
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from shared.entities.customer import CustomerData
from shared.events import EntityEvent, dump_event, event_routing_key
from shared.fields import flatten
from shared.kinds import APP, Action, EntityKind, Origin
from shared.topology import EVENTS_EXCHANGE
from tests.conftest import TEST_RETRY_DELAYS_MS, truncate_all
from tests.fakes.stripe_fake import API_KEY, FakeStripe
from tests.waiting import ended, eventually


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """The CRUD tables, the worker's own table and the rate budgets, all empty (one pool, as
    in one database): no worker of an earlier test (say, one killed) shares the budget."""
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    await truncate_all()
    try:
        yield
    finally:
        await close_db()


@pytest.fixture
def sync_settings(settings: CrudSettings, fake_stripe: FakeStripe) -> StripeSettings:
    return StripeSettings(
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        stripe_api_key=API_KEY,
        stripe_api_base=fake_stripe.url,
        stripe_timeout_s=2.0,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
        prefetch=50,
    )


STOP_S = 30.0


class Workers:
    """stripe_sync workers running as tasks of the test's loop, on the test's database pool."""

    def __init__(self, settings: StripeSettings) -> None:
        self.settings = settings
        self.tasks: list[asyncio.Task[None]] = []

    def start(
        self,
        metrics_port: int | None = None,
        budget: LaneBudget | None = None,
        **overrides: Any,
    ) -> asyncio.Task[None]:
        settings = self.settings.model_copy(update=overrides)
        task = asyncio.create_task(
            main(settings, own_database=False, metrics_port=metrics_port, budget=budget)
        )
        self.tasks.append(task)
        return task

    async def stop(self, task: asyncio.Task[None]) -> None:
        task.cancel()
        await ended(task, STOP_S, "a cancelled worker")
        await asyncio.gather(task, return_exceptions=True)

    async def stop_all(self) -> None:
        for task in self.tasks:
            await self.stop(task)
        # A handler runs in a task of aio-pika's own, which the worker's stop cancels without
        # waiting for it: none may outlive the test (and its database).
        await eventually(lambda: not handlers_running(), what="the stopped workers' handlers done")


_ON_MESSAGE = next(
    code
    for code in AmqpBus.consume.__code__.co_consts
    if isinstance(code, types.CodeType) and code.co_name == "on_message"
)


def handlers_running() -> list[asyncio.Task[Any]]:
    """The tasks running a delivery's handler (``AmqpBus.consume``'s ``on_message``) now."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and getattr(task.get_coro(), "cr_code", None) is _ON_MESSAGE
    ]


@pytest.fixture
async def workers(sync_settings: StripeSettings, db: None, broker: Any) -> AsyncIterator[Workers]:
    pool = Workers(sync_settings)
    try:
        yield pool
    finally:
        await pool.stop_all()


@pytest.fixture
async def publisher(sync_settings: StripeSettings, broker: Any) -> AsyncIterator[Publisher]:
    bus = AmqpBus(sync_settings.amqp_url.get_secret_value(), TEST_RETRY_DELAYS_MS)
    await bus.connect()  # declares the topology: the worker's queue exists from now on
    try:
        yield Publisher(bus)
    finally:
        await bus.close()


class Publisher:
    def __init__(self, bus: AmqpBus) -> None:
        self.bus = bus

    async def events(self, *events: EntityEvent) -> None:
        messages = [
            OutgoingMessage(event_routing_key(e), dump_event(e), str(e.event_id)) for e in events
        ]
        results = await self.bus.publish(EVENTS_EXCHANGE, messages)
        assert results == [None] * len(events)

    async def raw(self, routing_key: str, body: bytes) -> None:
        message = OutgoingMessage(routing_key, body, str(uuid.uuid4()))
        assert await self.bus.publish(EVENTS_EXCHANGE, [message]) == [None]


def customer_event(
    entity_id: str,
    version: int,
    action: str = "updated",
    origin: Origin = APP,
    changed: tuple[str, ...] | None = None,
    external_id: str | None = None,
    **fields: Any,
) -> EntityEvent:
    """An event as the CRUD service writes it; by default it changed every path it holds."""
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "id": entity_id,
        "name": f"Customer {entity_id} v{version}",
        "email": f"{entity_id}@example.com",
        "phone": None,
        "metadata": {"v": str(version)},
        "version": version if action != "deleted" else version - 1,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    snapshot = CustomerData(**data)
    if changed is None:
        changed = () if action == "deleted" else tuple(flatten(data, snapshot.synced_fields))
    if origin != APP and external_id is None:
        external_id = f"cus_{entity_id}"
    return EntityEvent.of(
        Action(action),
        snapshot,
        EntityKind.CUSTOMER,
        event_id=uuid.uuid4(),
        occurred_at=now,
        version=version,
        origin=origin,
        changed=changed,
        external_ids={STRIPE: external_id} if external_id else {},
    )


def stripe_customers() -> dict[str, Any]:
    """localstripe's customers, read from its store (no request, so no entry in the log)."""
    from localstripe.resources import store

    return {obj.id: obj for key, obj in list(store.items()) if key.startswith("customer:")}


def by_local_id() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for customer in stripe_customers().values():
        out.setdefault(customer.metadata.get("twoway_id"), []).append(customer)
    return out


async def link_of(entity_id: str) -> ExternalLink | None:
    return await ExternalLink.get_or_none(entity="customer", entity_id=entity_id, provider="stripe")
