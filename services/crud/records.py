"""Writes of any entity kind. Each commits the entity row and its outbox event in one
transaction: a broker outage cannot lose an event, and a failed write leaves no event behind.

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
from tortoise.fields import JSONField

from services.crud.ids import new_id
from services.crud.links.lookup import external_ids
from services.crud.outbox.writer import append, insert_statement
from services.crud.slices import EntitySlice, Unique
from services.crud.sync.clock import FieldClock
from services.crud.synced import SyncedModel
from services.runtime.db import dialect, retry_transient
from services.runtime.group_commit import GroupCommit
from services.runtime.transactions import transaction
from shared.entities import EntityData
from shared.events import EntityEvent
from shared.fields import Flat, apply_paths, changed_paths, flatten
from shared.kinds import APP, Action, Origin, Provider


class NotFound(Exception):
    pass


class VersionMismatch(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class Duplicate(Exception):
    """A unique field's value belongs to another entity."""

    def __init__(self, unique: tuple[Unique, ...]) -> None:
        super().__init__("a unique field is taken")
        self.unique = unique


def fields_of(kind: EntitySlice, row: SyncedModel) -> dict[str, Any]:
    """The row's synced fields, as plain values (maps copied)."""
    out: dict[str, Any] = {}
    for name in kind.contract.data.synced_fields:
        value = getattr(row, name)
        out[name] = dict(value or {}) if isinstance(value, Mapping) else value
    return out


def snapshot(kind: EntitySlice, row: SyncedModel) -> EntityData:
    return kind.contract.data.model_validate(
        {
            "id": row.id,
            **fields_of(kind, row),
            "version": row.version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def flat(kind: EntitySlice, row: SyncedModel) -> Flat:
    """The entity's synced state, path by path."""
    return flatten(fields_of(kind, row), kind.contract.data.synced_fields)


def event_of(
    kind: EntitySlice,
    row: SyncedModel,
    action: Action,
    origin: Origin,
    *,
    version: int | None = None,
    changed: Collection[str] = (),
    resend: Collection[str] = (),
    ids: Mapping[Provider, str] | None = None,
) -> EntityEvent:
    return EntityEvent.of(
        action,
        snapshot(kind, row),
        kind.kind,
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        version=version if version is not None else row.version,
        origin=origin,
        changed=tuple(sorted(changed)),
        resend=tuple(sorted(resend)),
        external_ids=dict(ids or {}),
    )


def _new(kind: EntitySlice, values: dict[str, Any], origin: Origin, at: float | None) -> Any:
    now = datetime.now(UTC)
    row = kind.model(id=new_id(), version=1, created_at=now, updated_at=now, **values)
    clock = FieldClock()
    clock.tick(flat(kind, row), 1, now.timestamp() if at is None else at, origin)
    row.field_clock = clock.dump()
    return row


def _insert_statement(kind: EntitySlice, row: SyncedModel) -> tuple[str, list[Any]]:
    """The row's INSERT, for ``run_transaction_mysql``."""
    names = ["id", *kind.contract.data.synced_fields, "version", "field_clock"]
    meta = kind.model._meta
    values: list[Any] = []
    for name in names:
        value = getattr(row, name)
        values.append(json.dumps(value) if isinstance(meta.fields_map[name], JSONField) else value)
    naive = row.created_at.replace(tzinfo=None)
    columns = [meta.fields_db_projection[n] for n in names] + ["created_at", "updated_at"]
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {meta.db_table} ({', '.join(columns)}) VALUES ({marks})"
    return sql, [*values, naive, naive]


async def insert_in_one_round_trip(
    kind: EntitySlice, values: dict[str, Any], group: GroupCommit
) -> SyncedModel:
    """``insert`` of an API create for MySQL/MariaDB: the row and its event in one transaction,
    one round trip shared with the creates waiting meanwhile (a new entity has no link to look
    up)."""
    row: SyncedModel = _new(kind, values, APP, None)
    event = event_of(kind, row, Action.CREATED, APP, changed=flat(kind, row))
    await group.run([_insert_statement(kind, row), insert_statement(event)])
    return row


async def insert(
    conn: BaseDBAsyncClient,
    kind: EntitySlice,
    values: dict[str, Any],
    origin: Origin,
    ids: Mapping[Provider, str] | None = None,
    at: float | None = None,
) -> SyncedModel:
    """Create an entity and its ``created`` event on ``conn``, inside the caller's transaction.

    ``at``: when the change was made, if not now (a provider's own time)."""
    row: SyncedModel = _new(kind, values, origin, at)
    await row.save(using_db=conn, force_create=True)
    changed = flat(kind, row)
    await append(conn, event_of(kind, row, Action.CREATED, origin, changed=changed, ids=ids))
    return row


def patch_paths(kind: EntitySlice, row: SyncedModel, changes: Mapping[str, Any]) -> Flat:
    """An API patch (whole fields: a map is the new map) as the paths it changes."""
    fields = kind.contract.data.synced_fields
    before = flat(kind, row)
    after = flatten({**fields_of(kind, row), **changes}, fields)
    return {path: after.get(path) for path in changed_paths(before, after)}


async def change(
    conn: BaseDBAsyncClient,
    kind: EntitySlice,
    row: SyncedModel,
    paths: Mapping[str, JsonValue],
    origin: Origin,
    *,
    resend: Collection[str] = (),
    ids: Mapping[Provider, str] | None = None,
    at: float | None = None,
) -> bool:
    """Set ``paths`` on a locked ``row`` and write one ``updated`` event for them.

    Paths already holding their value are left out; ``resend`` paths go to the origin provider
    too (a conflict resolution); ``ids`` adds provider ids not linked yet; ``at`` is when the
    change was made, if not now (a provider's own time). False (no version, no event) when
    nothing is left to do."""
    current = flat(kind, row)
    diff = {p: v for p, v in paths.items() if current.get(p) != v}
    if not diff and not resend:
        return False
    for name, value in apply_paths(fields_of(kind, row), diff).items():
        setattr(row, name, value)
    row.version += 1
    row.updated_at = datetime.now(UTC)
    clock = FieldClock(row.field_clock)
    clock.tick([*diff, *resend], row.version, time.time() if at is None else at, origin)
    row.field_clock = clock.dump()
    await row.save(using_db=conn)
    known = {**await external_ids(conn, kind.kind, row.id), **(ids or {})}
    event = event_of(kind, row, Action.UPDATED, origin, changed=diff, resend=resend, ids=known)
    await append(conn, event)
    return True


async def remove(
    conn: BaseDBAsyncClient, kind: EntitySlice, row: SyncedModel, origin: Origin
) -> None:
    """Delete a locked ``row`` and write its ``deleted`` event."""
    ids = await external_ids(conn, kind.kind, row.id)
    # The event carries the last snapshot; its version is one past it so that consumers order
    # the delete after every update.
    event = event_of(kind, row, Action.DELETED, origin, version=row.version + 1, ids=ids)
    await append(conn, event)
    await row.delete(using_db=conn)


async def lock(conn: BaseDBAsyncClient, kind: EntitySlice, entity_id: str) -> SyncedModel | None:
    row: SyncedModel | None = (
        await kind.model.filter(id=entity_id).using_db(conn).select_for_update().first()
    )
    return row


def _check(row: SyncedModel | None, expected: set[int] | None) -> SyncedModel:
    if row is None:
        raise NotFound()
    if expected is not None and row.version not in expected:
        raise VersionMismatch(row.version)
    return row


class EntityService:
    """Writes one kind's entities through the API; ``on_commit`` is called after every commit
    that wrote an event."""

    def __init__(self, kind: EntitySlice, on_commit: Callable[[], None]) -> None:
        self.kind = kind
        self.on_commit = on_commit
        self.creates = GroupCommit()

    async def create(self, values: dict[str, Any]) -> SyncedModel:
        async def tx() -> SyncedModel:
            if dialect() == "mysql":
                return await insert_in_one_round_trip(self.kind, values, self.creates)
            async with transaction() as conn:
                return await insert(conn, self.kind, values, APP)

        try:
            row = await retry_transient(tx)
        except IntegrityError as exc:
            raise Duplicate(self.kind.unique) from exc
        self.on_commit()
        return row

    async def update(
        self, entity_id: str, changes: dict[str, Any], expected: set[int] | None = None
    ) -> SyncedModel:
        """Apply ``changes``; a change to nothing keeps the version and writes no event."""
        changed = False

        async def tx() -> SyncedModel:
            nonlocal changed
            async with transaction() as conn:
                row = _check(await lock(conn, self.kind, entity_id), expected)
                paths = patch_paths(self.kind, row, changes)
                changed = await change(conn, self.kind, row, paths, APP)
            return row

        try:
            row = await retry_transient(tx)
        except IntegrityError as exc:
            raise Duplicate(self.kind.unique) from exc
        if changed:
            self.on_commit()
        return row

    async def delete(self, entity_id: str, expected: set[int] | None = None) -> None:
        async def tx() -> None:
            async with transaction() as conn:
                row = _check(await lock(conn, self.kind, entity_id), expected)
                await remove(conn, self.kind, row, APP)

        await retry_transient(tx)
        self.on_commit()
