"""Applying one inbound command: inbox row, merged change, outbox event, link and shadow, and
conflict records, in one transaction.

Why one transaction: the inbox row is the proof that an event was handled. Written apart from
the change, a crash between the two would either lose the change (inbox first) or apply it twice
(change first). Together they commit or vanish as one, so a redelivery is always safe.

Rules, in order:
- duplicate: the (provider, event id) is in the inbox -> nothing at all changes;
- resolution: the link to the external id, else the local id from the provider's metadata, else
  (upserts only) an unlinked local entity the kind's slice matches (customers: the same
  email), else a new entity;
- gone: the link is a tombstone (or the local entity was deleted here) -> recorded, skipped;
  a delete is final at the provider, so nothing may bring the entity back;
- otherwise the provider's state is merged path by path against the shadow and the local state
  (``services.crud.sync.merge``): stale paths, echoes of twoway's own writes and paths the
  provider did not change are left alone; the others are applied, or resolved as conflicts.
  Only what was applied becomes a local change (one version, one event whose origin is the
  provider), so nothing the app changed meanwhile is reverted, not even for a moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import JsonValue, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from services.crud import records
from services.crud.entities import ENTITIES
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.slices import EntitySlice
from services.crud.sync.clock import FieldClock
from services.crud.sync.conflicts import record_conflicts
from services.crud.sync.merge import LocalSide, Merge, Observation, merge
from services.crud.sync.rules import ConflictRules
from services.crud.synced import SyncedModel
from services.runtime.db import retry_transient
from services.runtime.links.models import ExternalLink
from services.runtime.links.shadow import Shadow
from services.runtime.transactions import transaction
from shared.commands import Delete, Upsert
from shared.events import EntityEvent, parse_event
from shared.fields import flatten

# How far back in an entity's outbox history an echo is looked for.
ECHO_LOOKBACK = 100

Command = Upsert | Delete


class Outcome(StrEnum):
    APPLIED = "applied"
    NOOP = "noop"
    STALE = "stale"
    ECHO = "echo"
    GONE = "gone"
    DUPLICATE = "duplicate"


class LinkConflict(Exception):
    """The command names a local entity already linked to another external object."""


class Unrepresentable(Exception):
    """The provider's state breaks a local rule (e.g. a customer without an email)."""


class _Seen(Exception):
    pass


class Applier:
    """Applies inbound commands with the configured conflict rules."""

    def __init__(self, rules: ConflictRules | None = None) -> None:
        self.rules = rules or ConflictRules()

    async def __call__(self, command: Command) -> Outcome:
        """Apply ``command`` exactly once in effect; see the module docstring for the rules."""

        async def tx() -> Outcome:
            kind = ENTITIES[command.entity]
            async with transaction() as conn:
                entry = await _record(conn, command)
                link, row = await _resolve(conn, kind, command)
                if isinstance(command, Delete):
                    outcome = await _delete(conn, kind, command, link, row)
                else:
                    outcome = await self._upsert(conn, kind, command, link, row)
                entry.outcome = outcome.value
                entry.entity_id = row.id if row is not None else None
                await entry.save(using_db=conn, update_fields=["outcome", "entity_id"])
                return outcome

        try:
            return await retry_transient(tx)
        except _Seen:
            return Outcome.DUPLICATE

    async def _upsert(
        self,
        conn: BaseDBAsyncClient,
        kind: EntitySlice,
        command: Upsert,
        link: ExternalLink | None,
        row: SyncedModel | None,
    ) -> Outcome:
        if link is not None and (link.deleted or (row is None and link.entity_id is not None)):
            return Outcome.GONE
        fields = _fields(kind, command)
        link = link or _new_link(command)
        before = _state(link)
        shadow = Shadow.load(link.shadow)
        theirs = flatten(fields, kind.contract.state.synced_fields)
        at = command.occurred_at.timestamp()
        if row is None:
            ids = {command.provider: command.external_id}
            row = await records.insert(conn, kind, fields, command.provider, ids, at)
            for path, value in theirs.items():
                shadow.observed(path, value, at, at + command.clock_resolution_s, confirmed=1)
            shadow.saw_whole(at)
            outcome = Outcome.APPLIED
        else:
            # A first link to an object made apart from this entity (matched by email, adopted):
            # no shadow says which side changed what, and nothing was ever sent to it.
            first_link = not shadow and command.local_id is None
            local = await _local_side(conn, kind, command, row, shadow)
            result = merge(
                await _observation(conn, command, theirs, row),
                local,
                shadow,
                self.rules[command.entity.value],
            )
            if first_link:
                result.resend |= _left_different(local.state, theirs, result)
            wrote = False
            if result.writes:
                wrote = await records.change(
                    conn,
                    kind,
                    row,
                    result.apply,
                    command.provider,
                    resend=result.resend,
                    ids={command.provider: command.external_id},
                    at=at,
                )
            for path in set(result.apply) - result.resend:
                shadow.applied(path, row.version)
            await record_conflicts(conn, command, row.id, result, self.rules)
            outcome = _outcome(result, wrote)
        link.entity_id = row.id
        link.shadow = shadow.dump()
        if not _pending(FieldClock(row.field_clock), shadow):
            # The provider holds every path of the current version: nothing to send it.
            link.synced_version = row.version
            link.status = "synced"
        await _save_link(conn, link, command, deleted=False, before=before)
        return outcome


def _left_different(
    ours: Mapping[str, JsonValue], theirs: Mapping[str, JsonValue], result: Merge
) -> set[str]:
    """Paths where the app's value stands and the provider's differs: sent to it, so a first
    link ends with both sides holding the same values (the merge alone sends only conflicts'
    winners, and leaves a value the provider never had, say a phone, on one side only)."""
    return {
        path
        for path in set(ours) | set(theirs)
        if path not in result.apply and ours.get(path) != theirs.get(path)
    }


def _outcome(result: Merge, wrote: bool) -> Outcome:
    if wrote:
        return Outcome.APPLIED
    if result.echoed:
        return Outcome.ECHO
    if result.stale:
        return Outcome.STALE
    return Outcome.NOOP


def _pending(clock: FieldClock, shadow: Shadow) -> bool:
    return any(clock.version(p) > shadow.confirmed(p) for p in clock.paths())


async def _observation(
    conn: BaseDBAsyncClient,
    command: Upsert,
    theirs: Mapping[str, JsonValue],
    row: SyncedModel,
) -> Observation:
    echo_paths: set[str] | None = None
    echo_version = 0
    if command.echo_of is not None:
        echo_paths = set()
        own = await _outbox_event(conn, str(command.echo_of))
        if own is not None and own.entity_id == row.id:
            echo_version = own.version
            echo_paths = set(
                own.flat() if own.action == "created" else own.paths_for(command.provider)
            )
            if command.changed is not None:
                echo_paths &= set(command.changed)
    return Observation(
        provider=command.provider.value,
        state=theirs,
        at=command.occurred_at.timestamp(),
        resolution=command.clock_resolution_s,
        changed=None if command.changed is None else frozenset(command.changed),
        previous=command.previous,
        initial=command.initial,
        request_known=command.request_known,
        echo_paths=echo_paths,
        echo_version=echo_version,
    )


async def _local_side(
    conn: BaseDBAsyncClient, kind: EntitySlice, command: Upsert, row: SyncedModel, shadow: Shadow
) -> LocalSide:
    sent, history = await _sent_not_overtaken(conn, command, row.id, shadow)
    if command.request_known:
        sent = {}  # the provider names twoway's own requests: no echo is guessed by value
    return LocalSide(records.flat(kind, row), FieldClock(row.field_clock), sent, history)


async def _outbox_event(conn: BaseDBAsyncClient, event_id: str) -> EntityEvent | None:
    row = await OutboxEvent.filter(event_id=event_id).using_db(conn).first()
    if row is None:
        return None
    event = parse_event(row.payload)
    return event if isinstance(event, EntityEvent) else None


async def _sent_not_overtaken(
    conn: BaseDBAsyncClient, command: Command, entity_id: str, shadow: Shadow
) -> tuple[dict[str, dict[JsonValue, int]], dict[str, dict[JsonValue, int]]]:
    """What an event from a provider that does not say who wrote may be made of, per path:
    the values twoway sent it in writes its own changes have not overtaken (with the oldest
    version sending each), and the values the path had in the local history since then (with
    the newest version holding each)."""
    payloads = (
        await OutboxEvent.filter(entity=command.entity.value, entity_id=entity_id)
        .using_db(conn)
        .order_by("-id")
        .limit(ECHO_LOOKBACK)
        .values_list("payload", flat=True)
    )
    sent: dict[str, dict[JsonValue, int]] = {}
    history: dict[str, dict[JsonValue, int]] = {}
    for payload in payloads:
        event = parse_event(str(payload))
        if not isinstance(event, EntityEvent):
            continue
        values = event.flat()
        ours = event.action == "created" and event.origin != command.provider
        paths = set(values) if ours else set(event.paths_for(command.provider))
        for path in set(values) | paths | set(shadow):
            floor = shadow.floor(path)
            if event.version < floor:
                continue
            # The floor's own version is the provider's value that later writes replaced.
            history.setdefault(path, {}).setdefault(values.get(path), event.version)
            if path in paths and event.version > floor:
                sent.setdefault(path, {})[values.get(path)] = event.version
    return sent, history


async def _record(conn: BaseDBAsyncClient, command: Command) -> InboxEntry:
    # First statement of the transaction: a concurrent delivery of the same event waits here on
    # the unique key until this one commits (then it is a duplicate) or rolls back.
    try:
        return await InboxEntry.create(
            using_db=conn,
            provider=command.provider.value,
            event_id=command.provider_event_id,
            entity=command.entity.value,
            external_id=command.external_id,
            occurred_at=command.occurred_at,
            outcome="pending",
            payload=command.model_dump_json(),
            received_at=datetime.now(UTC),
        )
    except IntegrityError:
        raise _Seen() from None


def _links(conn: BaseDBAsyncClient, command: Command, **where: Any) -> Any:
    return (
        ExternalLink.filter(provider=command.provider.value, entity=command.entity.value, **where)
        .using_db(conn)
        .select_for_update()
    )


async def _resolve(
    conn: BaseDBAsyncClient, kind: EntitySlice, command: Command
) -> tuple[ExternalLink | None, SyncedModel | None]:
    """Find (and lock) the link and the local entity the command is about."""
    link: ExternalLink | None = await _links(conn, command, external_id=command.external_id).first()
    if link is not None:
        if link.entity_id is None or link.deleted:
            return link, None
        return link, await records.lock(conn, kind, link.entity_id)
    row: SyncedModel | None = None
    if command.local_id is not None:
        row = await records.lock(conn, kind, command.local_id)
        if row is None:
            known = await _links(conn, command, entity_id=command.local_id).first()
            if known is not None:  # it existed here and was deleted: never resurrect it
                return known, None
    if row is None and isinstance(command, Upsert) and kind.match is not None:
        row = await kind.match(conn, command.state)
    if row is None:
        return None, None
    link = await _links(conn, command, entity_id=row.id).first()
    if link is not None and link.external_id not in (None, command.external_id):
        raise LinkConflict(
            f"local {kind.noun} {row.id} is already linked to {link.external_id}, "
            f"not {command.external_id}"
        )
    return link, row


def _fields(kind: EntitySlice, command: Upsert) -> dict[str, Any]:
    """The provider's state as the kind's fields, valid by the API's own rules."""
    try:
        valid = kind.create.model_validate(command.state.model_dump())
    except ValidationError as exc:
        bad = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise Unrepresentable(f"the provider's {kind.noun} has invalid fields: {bad}") from None
    return valid.model_dump()


async def _delete(
    conn: BaseDBAsyncClient,
    kind: EntitySlice,
    command: Delete,
    link: ExternalLink | None,
    row: SyncedModel | None,
) -> Outcome:
    # No staleness check: a provider deletes an object last, whatever the timestamps say.
    outcome = Outcome.GONE
    if row is not None:
        await records.remove(conn, kind, row, command.provider)
        outcome = Outcome.APPLIED
    link = link or _new_link(command)
    if row is not None:
        link.entity_id = row.id
    # The link stays as a tombstone, so a late create or update cannot bring the entity back.
    await _save_link(conn, link, command, deleted=True)
    return outcome


def _new_link(command: Command) -> ExternalLink:
    return ExternalLink(
        provider=command.provider.value, entity=command.entity.value, status="pending", shadow={}
    )


def _state(link: ExternalLink) -> tuple[Any, ...]:
    return (
        link.external_id,
        link.entity_id,
        link.deleted,
        link.status,
        link.synced_version,
        link.shadow,
        link.inbound_occurred_at,
    )


async def _save_link(
    conn: BaseDBAsyncClient,
    link: ExternalLink,
    command: Command,
    deleted: bool,
    before: tuple[Any, ...] | None = None,
) -> None:
    """Save ``link`` with the command's marks, unless that changes nothing against ``before``
    (then even its ``updated_at``, which the API shows, stays)."""
    link.external_id = command.external_id
    link.deleted = deleted
    newest = link.inbound_occurred_at
    if newest is None or command.occurred_at > newest:
        link.inbound_occurred_at = command.occurred_at
    if link.pk is not None and _state(link) == before:
        return
    link.updated_at = datetime.now(UTC)
    await link.save(using_db=conn)
