"""The in-process bus (``twoway dev``) delivers in a context of its own: a handler never runs
inside the transaction its publisher had open.

It did: handler tasks inherited the publisher's context variables, Tortoise's current
transaction among them, so a consumer's own transaction became a savepoint of the publisher's
(on SQLite: "no such savepoint" once the publisher committed first), and its writes rode on
the publisher's commit or rollback. Shown on MariaDB here: Tortoise keeps a model's dialect
from the process's first initialisation, so SQLite runs in processes of their own elsewhere.
"""

from __future__ import annotations

import asyncio

import pytest
from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from services.crud.apikeys.models import ApiKey
from services.runtime.bus import Delivery, OutgoingMessage
from services.runtime.memory import MemoryBroker, MemoryBus
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from shared.topology import EVENTS_EXCHANGE
from tests.conftest import TEST_RETRY_DELAYS_MS


class Rollback(Exception):
    pass


@pytest.mark.mariadb
@pytest.mark.usefixtures("db")
async def test_a_handler_commits_on_its_own_when_its_publisher_rolls_back() -> None:
    bus = MemoryBus(MemoryBroker(), TEST_RETRY_DELAYS_MS)
    handled = asyncio.Event()
    failures: list[BaseException] = []
    inherited: list[bool] = []

    async def handler(delivery: Delivery) -> None:
        # What the handler's own queries would run on, before it opens its transaction.
        inherited.append(isinstance(connections.get("default"), TransactionalDBClient))
        try:
            async with in_transaction() as conn:
                await ApiKey.create(
                    using_db=conn,
                    id="k-handler",
                    scope="read",
                    prefix="p",
                    key_hash="h1",
                    created_at="2026-12-01T00:00:00Z",
                )
        except BaseException as exc:
            failures.append(exc)
            raise
        finally:
            handled.set()
        await delivery.ack()

    consuming = asyncio.create_task(bus.consume(STRIPE_SYNC_QUEUE, handler, prefetch=10))
    try:
        await bus.connect()
        with pytest.raises(Rollback):
            async with in_transaction() as conn:
                await ApiKey.create(
                    using_db=conn,
                    id="k-publisher",
                    scope="read",
                    prefix="p",
                    key_hash="h2",
                    created_at="2026-12-01T00:00:00Z",
                )
                message = OutgoingMessage("customer.created", b"{}", "m1")
                assert await bus.publish(EVENTS_EXCHANGE, [message]) == [None]
                raise Rollback
        await asyncio.wait_for(handled.wait(), timeout=10)
        assert inherited == [False], "the handler ran inside its publisher's transaction"
        assert failures == []
        assert [k.id for k in await ApiKey.all()] == ["k-handler"]
    finally:
        consuming.cancel()
        await bus.close()
        await asyncio.gather(consuming, return_exceptions=True)
