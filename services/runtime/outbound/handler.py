"""A provider worker's handler: one entity event -> the provider -> link row -> result.

Order of one handling, and why:
1. parse (a malformed body is Permanent: dead-lettered at once, nothing to report about);
   an event of a kind this provider does not sync is acked and nothing else;
2. take the entity's in-process lock, then its link row (``external_links``, the one record
   of the entity at this provider) ``FOR UPDATE``: events of one entity are applied one at a
   time, in this process and across worker processes, and whatever linked the entity before
   (reconcile, an inbound change, another worker) is seen;
3. an event that may create the object first records the attempt in the row, committed before
   the request: if the answer is lost (a crash, a timeout) and the event comes back after the
   provider forgot its idempotency key, the object is looked for before creating again;
4. decide from the row, path by path: the provider is sent only the paths the event changed
   (never those of a change that came from it, except what a conflict resolution re-sends),
   and of those only the ones it does not hold a newer version of already (what this worker
   wrote, ``field_versions``, and what the CRUD side confirmed, the shadow). An entity the
   provider does not have yet is linked to the object it matches while an adoption is under
   way (``adoption``), else created whole. Idempotency keys derive from the event id, so a
   redelivery after a crash replays instead of duplicating;
5. commit the row, then report the outcome with the paths written (publish confirmed); the
   worker acks after.

A crash anywhere before the ack redelivers the event; steps 3-5 are safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from services.runtime.bus import Delivery
from services.runtime.db import retry_transient
from services.runtime.decode import decode_event
from services.runtime.errors import Permanent
from services.runtime.links.models import ExternalLink
from services.runtime.links.shadow import Shadow
from services.runtime.locks import KeyedLocks
from services.runtime.outbound.adoption import Adopted, Adoption, Ambiguous
from services.runtime.outbound.resource import Resource
from services.runtime.outbound.results import Reporter, Status, result_of
from services.runtime.transactions import transaction
from services.runtime.worker import DeadLetter
from shared.bookkeeping import idempotency_key
from shared.events import EntityEvent
from shared.kinds import EntityKind, Provider

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What one event's handling did at the provider, as it is reported back."""

    status: Status
    external_id: str | None
    written: dict[str, JsonValue] = field(default_factory=dict)
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    created: bool = False
    note: str | None = None
    error: str | None = None


def parse(delivery: Delivery) -> EntityEvent:
    return decode_event(delivery.body, EntityEvent)


class OutboundHandler:
    def __init__(
        self,
        provider: Provider,
        resources: Mapping[EntityKind, Resource],
        report: Reporter,
        adoption: Adoption | None = None,
    ) -> None:
        self.provider = provider
        self.resources = resources
        self.report = report
        self.adoption = adoption
        self.locks = KeyedLocks()

    async def __call__(self, delivery: Delivery) -> None:
        event = parse(delivery)
        if event.entity not in self.resources:
            return  # a kind this provider does not sync
        async with self.locks.hold(f"{event.entity.value}:{event.entity_id}"):
            outcome = await retry_transient(lambda: self.apply(event))
            await self.report(
                result_of(
                    self.provider,
                    event,
                    outcome.status,
                    outcome.external_id,
                    written=outcome.written,
                    sent_at=outcome.sent_at,
                    answered_at=outcome.answered_at,
                    created=outcome.created,
                    note=outcome.note,
                    error=outcome.error,
                )
            )
        log.info(
            "outbound sync",
            extra={
                "provider": self.provider.value,
                "event_id": str(event.event_id),
                "entity_id": event.entity_id,
                "version": event.version,
                "outcome": outcome.status,
                "paths": sorted(outcome.written),
            },
        )

    async def report_dead_letter(self, delivery: Delivery, action: DeadLetter) -> None:
        """The worker's ``on_dead_letter`` hook: tell the CRUD side this version is stuck."""
        try:
            event = parse(delivery)
        except Permanent:
            return  # malformed: there is no entity to report about
        if event.entity in self.resources:
            await self.report(result_of(self.provider, event, "failed", None, action.error))

    def _row(self, event: EntityEvent, conn: BaseDBAsyncClient) -> Any:
        return (
            ExternalLink.filter(
                entity=event.entity.value, entity_id=event.entity_id, provider=self.provider.value
            )
            .using_db(conn)
            .select_for_update()
            .get()
        )

    async def apply(self, event: EntityEvent) -> Report:
        await self._ensure_link(event)
        attempted_before = await self._record_attempt(event, self.resources[event.entity])
        async with transaction() as conn:
            link: ExternalLink = await self._row(event, conn)
            if link.external_id is None:
                link.external_id = event.external_ids.get(self.provider)
            outcome = await self._apply_there(conn, event, link, attempted_before)
            link.handled_version = max(link.handled_version, event.version)
            if link.external_id is not None:
                link.create_attempt = link.create_attempted_at = None
            await link.save(using_db=conn, update_fields=WORKER_FIELDS)
        return outcome

    async def _record_attempt(self, event: EntityEvent, resource: Resource) -> bool:
        """If handling ``event`` may create the object, mark the attempt (committed now, before
        any request). Whether an earlier attempt may have made the object without the provider
        replaying it for this one: another event's key, or the same key grown too old."""
        async with transaction() as conn:
            link: ExternalLink = await self._row(event, conn)
            known = link.external_id or event.external_ids.get(self.provider)
            if known is not None or link.deleted or event.action == "deleted":
                return False
            key, now = idempotency_key(event.event_id), datetime.now(UTC)
            before, since = link.create_attempt, link.create_attempted_at
            if before == key and since is not None:
                window = resource.replay_window
                return window is None or now - since >= window
            link.create_attempt, link.create_attempted_at = key, now
            await link.save(using_db=conn, update_fields=["create_attempt", "create_attempted_at"])
            return before is not None

    async def _apply_there(
        self,
        conn: BaseDBAsyncClient,
        event: EntityEvent,
        link: ExternalLink,
        attempted_before: bool,
    ) -> Report:
        """Bring the provider up to ``event``; update ``link`` (saved by the caller)."""
        resource = self.resources[event.entity]
        if link.deleted:
            return Report("skipped", link.external_id)  # nothing may bring it back
        if event.action == "deleted":
            note = None
            if event.origin != self.provider and link.external_id:
                note = await resource.delete(link.external_id, idempotency_key(event.event_id))
            link.deleted = True
            return Report("synced", link.external_id, note=note)
        versions = dict(link.field_versions or {})
        shadow = Shadow.load(link.shadow)
        values = {p: v for p, v in event.flat().items() if resource.syncs(p)}
        wanted = [p for p in event.paths_for(self.provider) if resource.syncs(p)]

        def held(path: str) -> int:
            return max(versions.get(path, 0), shadow.confirmed(path))

        due = [p for p in wanted if event.version > held(p)]
        if event.origin == self.provider and event.action == "created" and link.external_id:
            # Made there by a person: the object learns which entity it is.
            await resource.claim(link.external_id, event.entity_id)
        if event.origin == self.provider:
            for path in filter(resource.syncs, event.changed):  # the provider holds these
                versions[path] = max(versions.get(path, 0), event.version)
        outcome = Report("synced" if event.origin == self.provider else "skipped", link.external_id)
        sent_at = datetime.now(UTC)
        external_id = link.external_id
        created = False
        if external_id is None:
            # A create, or an update whose create never reached the provider: the whole entity.
            found = await self._find_or_adopt(conn, event, resource, link, attempted_before)
            if isinstance(found, Report):
                return found
            if found is None:
                link.external_id = await resource.create(
                    event.snapshot, idempotency_key(event.event_id)
                )
                created = True
            else:
                key = idempotency_key(event.event_id, {"found": found, **values})
                await resource.update(found, event.entity_id, values, key)
            due = sorted(values)
        elif due:
            sent = {p: values.get(p) for p in due}
            full = sorted(due) == sorted(wanted)
            key = idempotency_key(event.event_id, None if full else sent)
            await resource.update(external_id, event.entity_id, sent, key)
        else:
            link.field_versions = versions
            return outcome
        for path in due:
            versions[path] = event.version
        link.field_versions = versions
        return Report(
            "synced",
            link.external_id,
            written={p: values.get(p) for p in due},
            sent_at=sent_at,
            answered_at=datetime.now(UTC),
            created=created,
        )

    async def _find_or_adopt(
        self,
        conn: BaseDBAsyncClient,
        event: EntityEvent,
        resource: Resource,
        link: ExternalLink,
        attempted_before: bool,
    ) -> str | Report | None:
        """Before a create: the object an earlier attempt made (its id: then it is brought up
        to this version), or the outcome of adopting an existing one (a ``Report``), or None:
        create."""
        if attempted_before:
            own = await resource.find_own(event.entity_id, event.snapshot)
            if own is not None:
                link.external_id = own
                return own
        if self.adoption is None or not await self.adoption.applies(conn, event.entity):
            return None
        choice = await self.adoption.choose(
            conn,
            event.entity,
            event.entity_id,
            await resource.find_matches(event.snapshot),
            str(event.event_id),
        )
        if isinstance(choice, Adopted):
            link.external_id = choice.external_id
            # The object's state goes through the inbound merge, as reconcile's would; its
            # conflict rules decide each field, and what the app keeps is sent from there.
            await self.adoption.announce(choice.command)
            return Report(
                "skipped",
                choice.external_id,
                note=f"linked to the {self.provider.value} object it matches",
            )
        if isinstance(choice, Ambiguous):
            return Report(
                "failed",
                None,
                error=(
                    f"held back: {len(choice.external_ids)} {self.provider.value} objects match "
                    f"it ({', '.join(choice.external_ids)}); none was linked"
                ),
            )
        return None

    async def _ensure_link(self, event: EntityEvent) -> None:
        """Make sure the entity's link row exists, so that ``FOR UPDATE`` has a row to lock."""
        entity, entity_id, provider = event.entity.value, event.entity_id, self.provider.value
        if await ExternalLink.exists(entity=entity, entity_id=entity_id, provider=provider):
            return
        with contextlib.suppress(IntegrityError):  # another process created it first
            await ExternalLink.create(
                entity=entity,
                entity_id=entity_id,
                provider=provider,
                status="pending",
                shadow={},
                updated_at=datetime.now(UTC),
            )


# The worker's columns of the row; the CRUD side's (status, shadow, updated_at, ...) are its own.
WORKER_FIELDS = [
    "external_id",
    "deleted",
    "field_versions",
    "handled_version",
    "create_attempt",
    "create_attempted_at",
]
