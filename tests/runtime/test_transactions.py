"""A transaction cancelled while it begins gives its connection back; closing never waits for
ever on one still in use (real MariaDB, a pool of one connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.mysql.client import TransactionWrapper
from tortoise.transactions import in_transaction

from services.runtime.db import close_db, init_db
from services.runtime.transactions import transaction

pytestmark = [pytest.mark.mariadb]


@pytest.fixture
async def pool_of_one(test_database: str) -> AsyncIterator[Any]:
    await init_db(test_database + "?maxsize=1", ["services.crud.outbox.models"])
    conn = connections.get("default")
    await conn.execute_query("SELECT 1")
    try:
        yield conn._pool  # type: ignore[attr-defined]
    finally:
        await close_db(grace_s=1.0)


async def cancelled_while_beginning(monkeypatch: pytest.MonkeyPatch, enter: Any) -> None:
    """Run ``enter()`` as a task and cancel it during BEGIN (slowed down: fault injection)."""
    begin = TransactionWrapper.begin
    beginning = asyncio.Event()

    async def slow_begin(self: TransactionWrapper) -> None:
        beginning.set()
        await asyncio.Event().wait()  # held until cancelled
        await begin(self)

    monkeypatch.setattr(TransactionWrapper, "begin", slow_begin)
    task = asyncio.create_task(enter())
    await beginning.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    monkeypatch.setattr(TransactionWrapper, "begin", begin)


async def test_a_cancel_during_begin_gives_the_connection_back(
    pool_of_one: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def enter() -> None:
        async with transaction():
            pass

    await cancelled_while_beginning(monkeypatch, enter)
    assert len(pool_of_one._used) == 0
    async with asyncio.timeout(5), transaction() as conn:  # the pool of one still serves
        assert await conn.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]


async def test_closing_ends_even_with_a_connection_lost_by_the_orm(
    pool_of_one: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tortoise's own in_transaction loses the connection (the fault transaction() avoids);
    closing then closes it after the grace instead of waiting for ever."""

    async def enter() -> None:
        async with in_transaction():
            pass

    await cancelled_while_beginning(monkeypatch, enter)
    assert len(pool_of_one._used) == 1
    async with asyncio.timeout(10):
        await close_db(grace_s=0.5)
