"""Customer writes. Each commits the customer row and its outbox event in one transaction:
a broker outage cannot lose an event, and a failed write leaves no event behind.

Every change names the paths it changed (``shared.fields``) on its event and ticks them on the
row's field clock; the inbound merge and the provider workers work path by path from those.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.crud.customers.models import Customer
from services.crud.ids import new_id
from services.crud.links.lookup import external_ids
from services.crud.outbox.writer import append, insert_statement
from services.crud.sync.clock import FieldClock
from services.runtime.db import dialect, retry_transient, run_transaction_mysql
from shared.events import CustomerData, CustomerEvent
from shared.fields import Flat, apply_paths, changed_paths, flatten
from shared.kinds import APP, Action, EntityKind, Origin, Provider

FIELDS = CustomerData.synced_fields


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


def flat(customer: Customer) -> Flat:
    """The customer's synced state, path by path."""
    return flatten(_fields(customer), FIELDS)


def event_of(
    customer: Customer,
    action: Action,
    origin: Origin,
    *,
    version: int | None = None,
    changed: Collection[str] = (),
    resend: Collection[str] = (),
    ids: Mapping[Provider, str] | None = None,
) -> CustomerEvent:
    return CustomerEvent(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        type=f"customer.{action.value}",
        entity_id=customer.id,
        version=version if version is not None else customer.version,
        origin=origin,
        data=snapshot(customer),
        changed=tuple(sorted(changed)),
        resend=tuple(sorted(resend)),
        external_ids=dict(ids or {}),
    )


CUSTOMER_INSERT_SQL = (
    "INSERT INTO customers (id, name, email, phone, metadata, version, field_clock, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _new(fields: dict[str, Any], origin: Origin, at: float | None = None) -> Customer:
    now = datetime.now(UTC)
    customer = Customer(id=new_id(), version=1, created_at=now, updated_at=now, **fields)
    clock = FieldClock()
    clock.tick(flat(customer), 1, now.timestamp() if at is None else at, origin)
    customer.field_clock = clock.dump()
    return customer


async def insert_in_one_round_trip(fields: dict[str, Any]) -> Customer:
    """``insert`` of an API create for MySQL/MariaDB: the row and its event in one transaction,
    one round trip (a new customer has no link to look up)."""
    customer = _new(fields, APP)
    naive = customer.created_at.replace(tzinfo=None)
    row = [
        customer.id,
        customer.name,
        customer.email,
        customer.phone,
        json.dumps(customer.metadata or {}),
        1,
        json.dumps(customer.field_clock),
        naive,
        naive,
    ]
    event = event_of(customer, Action.CREATED, APP, changed=flat(customer))
    await run_transaction_mysql([(CUSTOMER_INSERT_SQL, row), insert_statement(event)])
    return customer


def _check(customer: Customer | None, expected: set[int] | None) -> Customer:
    if customer is None:
        raise NotFound()
    if expected is not None and customer.version not in expected:
        raise VersionMismatch(customer.version)
    return customer


async def insert(
    conn: BaseDBAsyncClient,
    fields: dict[str, Any],
    origin: Origin,
    ids: Mapping[Provider, str] | None = None,
    at: float | None = None,
) -> Customer:
    """Create a customer and its ``created`` event on ``conn``, inside the caller's transaction.

    ``at``: when the change was made, if not now (a provider's own time)."""
    customer = _new(fields, origin, at)
    await customer.save(using_db=conn, force_create=True)
    await append(conn, event_of(customer, Action.CREATED, origin, changed=flat(customer), ids=ids))
    return customer


def patch_paths(customer: Customer, changes: Mapping[str, Any]) -> Flat:
    """An API patch (whole fields: ``metadata`` is the new map) as the paths it changes."""
    before = flat(customer)
    after = flatten({**_fields(customer), **changes}, FIELDS)
    return {path: after.get(path) for path in changed_paths(before, after)}


def _fields(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "metadata": dict(customer.metadata or {}),
    }


async def change(
    conn: BaseDBAsyncClient,
    customer: Customer,
    paths: Mapping[str, JsonValue],
    origin: Origin,
    *,
    resend: Collection[str] = (),
    ids: Mapping[Provider, str] | None = None,
    at: float | None = None,
) -> bool:
    """Set ``paths`` on a locked ``customer`` and write one ``updated`` event for them.

    Paths already holding their value are left out; ``resend`` paths go to the origin provider
    too (a conflict resolution); ``ids`` adds provider ids not linked yet; ``at`` is when the
    change was made, if not now (a provider's own time). False (no version, no event) when
    nothing is left to do."""
    current = flat(customer)
    diff = {p: v for p, v in paths.items() if current.get(p) != v}
    if not diff and not resend:
        return False
    for name, value in apply_paths(_fields(customer), diff).items():
        setattr(customer, name, value)
    customer.version += 1
    now = datetime.now(UTC)
    customer.updated_at = now
    clock = FieldClock(customer.field_clock)
    clock.tick([*diff, *resend], customer.version, time.time() if at is None else at, origin)
    customer.field_clock = clock.dump()
    await customer.save(using_db=conn)
    known = {**await external_ids(conn, EntityKind.CUSTOMER, customer.id), **(ids or {})}
    await append(
        conn,
        event_of(customer, Action.UPDATED, origin, changed=diff, resend=resend, ids=known),
    )
    return True


async def remove(conn: BaseDBAsyncClient, customer: Customer, origin: Origin) -> None:
    """Delete a locked ``customer`` and write its ``deleted`` event."""
    ids = await external_ids(conn, EntityKind.CUSTOMER, customer.id)
    # The event carries the last snapshot; its version is one past it so that consumers order
    # the delete after every update.
    await append(
        conn, event_of(customer, Action.DELETED, origin, version=customer.version + 1, ids=ids)
    )
    await customer.delete(using_db=conn)


async def lock(conn: BaseDBAsyncClient, customer_id: str) -> Customer | None:
    return await Customer.filter(id=customer_id).using_db(conn).select_for_update().first()


class CustomerService:
    """Writes customers; ``on_commit`` is called after every commit that wrote an event."""

    def __init__(self, on_commit: Callable[[], None]) -> None:
        self.on_commit = on_commit

    async def create(self, fields: dict[str, Any]) -> Customer:
        async def tx() -> Customer:
            if dialect() == "mysql":
                return await insert_in_one_round_trip(fields)
            async with in_transaction() as conn:
                return await insert(conn, fields, APP)

        try:
            customer = await retry_transient(tx)
        except IntegrityError as exc:
            raise DuplicateEmail() from exc
        self.on_commit()
        return customer

    async def update(
        self, customer_id: str, changes: dict[str, Any], expected: set[int] | None = None
    ) -> Customer:
        """Apply ``changes``; a change to nothing keeps the version and writes no event."""
        changed = False

        async def tx() -> Customer:
            nonlocal changed
            async with in_transaction() as conn:
                customer = _check(await lock(conn, customer_id), expected)
                changed = await change(conn, customer, patch_paths(customer, changes), APP)
            return customer

        try:
            customer = await retry_transient(tx)
        except IntegrityError as exc:
            raise DuplicateEmail() from exc
        if changed:
            self.on_commit()
        return customer

    async def delete(self, customer_id: str, expected: set[int] | None = None) -> None:
        async def tx() -> None:
            async with in_transaction() as conn:
                customer = _check(await lock(conn, customer_id), expected)
                await remove(conn, customer, APP)

        await retry_transient(tx)
        self.on_commit()
