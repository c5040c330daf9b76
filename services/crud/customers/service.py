"""Customer writes. Each commits the customer row and its outbox event in one transaction:
a broker outage cannot lose an event, and a failed write leaves no event behind."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.crud.customers.models import Customer
from services.crud.ids import new_id
from services.crud.outbox.writer import append, insert_statement
from services.runtime.db import dialect, retry_transient, run_transaction_mysql
from shared.events import CustomerData, CustomerEvent
from shared.kinds import Action, Origin

FIELDS = ("name", "email", "phone", "metadata")


class NotFound(Exception):
    pass


class VersionMismatch(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class DuplicateEmail(Exception):
    pass


def snapshot(customer: Customer) -> CustomerData:
    return CustomerData(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        metadata=dict(customer.metadata or {}),
        version=customer.version,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def event_of(
    customer: Customer, action: Action, origin: Origin, version: int | None = None
) -> CustomerEvent:
    return CustomerEvent(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        type=f"customer.{action.value}",
        entity_id=customer.id,
        version=version if version is not None else customer.version,
        origin=origin,
        data=snapshot(customer),
    )


async def record_event(
    conn: BaseDBAsyncClient,
    customer: Customer,
    action: Action,
    origin: Origin,
    version: int | None = None,
) -> None:
    """Append the outbox event describing ``customer`` after ``action``."""
    await append(conn, event_of(customer, action, origin, version))


CUSTOMER_INSERT_SQL = (
    "INSERT INTO customers (id, name, email, phone, metadata, version, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


async def insert_in_one_round_trip(fields: dict[str, Any], origin: Origin) -> Customer:
    """``insert`` for MySQL/MariaDB: the row and its event in one transaction, one round trip."""
    now = datetime.now(UTC)
    customer = Customer(id=new_id(), version=1, created_at=now, updated_at=now, **fields)
    naive = now.replace(tzinfo=None)
    row = [
        customer.id,
        customer.name,
        customer.email,
        customer.phone,
        json.dumps(customer.metadata or {}),
        1,
        naive,
        naive,
    ]
    event = event_of(customer, Action.CREATED, origin)
    await run_transaction_mysql([(CUSTOMER_INSERT_SQL, row), insert_statement(event)])
    return customer


def _check(customer: Customer | None, expected: set[int] | None) -> Customer:
    if customer is None:
        raise NotFound()
    if expected is not None and customer.version not in expected:
        raise VersionMismatch(customer.version)
    return customer


async def insert(conn: BaseDBAsyncClient, fields: dict[str, Any], origin: Origin) -> Customer:
    """Create a customer and its ``created`` event on ``conn``, inside the caller's transaction."""
    now = datetime.now(UTC)
    customer = await Customer.create(
        using_db=conn, id=new_id(), version=1, created_at=now, updated_at=now, **fields
    )
    await record_event(conn, customer, Action.CREATED, origin)
    return customer


async def change(
    conn: BaseDBAsyncClient, customer: Customer, changes: dict[str, Any], origin: Origin
) -> bool:
    """Apply ``changes`` to a locked ``customer``; False (no version, no event) if none differ."""
    diff = {k: v for k, v in changes.items() if getattr(customer, k) != v}
    if not diff:
        return False
    for key, value in diff.items():
        setattr(customer, key, value)
    customer.version += 1
    customer.updated_at = datetime.now(UTC)
    await customer.save(using_db=conn)
    await record_event(conn, customer, Action.UPDATED, origin)
    return True


async def remove(conn: BaseDBAsyncClient, customer: Customer, origin: Origin) -> None:
    """Delete a locked ``customer`` and write its ``deleted`` event."""
    # The event carries the last snapshot; its version is one past it so that consumers order
    # the delete after every update.
    await record_event(conn, customer, Action.DELETED, origin, version=customer.version + 1)
    await customer.delete(using_db=conn)


async def lock(conn: BaseDBAsyncClient, customer_id: str) -> Customer | None:
    return await Customer.filter(id=customer_id).using_db(conn).select_for_update().first()


class CustomerService:
    """Writes customers; ``on_commit`` is called after every commit that wrote an event."""

    def __init__(self, on_commit: Callable[[], None]) -> None:
        self.on_commit = on_commit

    async def create(self, fields: dict[str, Any], origin: Origin = Origin.APP) -> Customer:
        async def tx() -> Customer:
            if dialect() == "mysql":
                return await insert_in_one_round_trip(fields, origin)
            async with in_transaction() as conn:
                return await insert(conn, fields, origin)

        try:
            customer = await retry_transient(tx)
        except IntegrityError as exc:
            raise DuplicateEmail() from exc
        self.on_commit()
        return customer

    async def update(
        self,
        customer_id: str,
        changes: dict[str, Any],
        expected: set[int] | None = None,
        origin: Origin = Origin.APP,
    ) -> Customer:
        """Apply ``changes``; a change to nothing keeps the version and writes no event."""
        changed = False

        async def tx() -> Customer:
            nonlocal changed
            async with in_transaction() as conn:
                customer = _check(await lock(conn, customer_id), expected)
                changed = await change(conn, customer, changes, origin)
            return customer

        try:
            customer = await retry_transient(tx)
        except IntegrityError as exc:
            raise DuplicateEmail() from exc
        if changed:
            self.on_commit()
        return customer

    async def delete(
        self, customer_id: str, expected: set[int] | None = None, origin: Origin = Origin.APP
    ) -> None:
        async def tx() -> None:
            async with in_transaction() as conn:
                customer = _check(await lock(conn, customer_id), expected)
                await remove(conn, customer, origin)

        await retry_transient(tx)
        self.on_commit()
