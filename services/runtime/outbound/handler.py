"""A provider worker's handler: one entity event -> the provider -> link row -> result.

Order of one handling, and why:
1. parse (a malformed body is Permanent: dead-lettered at once, nothing to report about);
   an event of a kind this provider does not sync is acked and nothing else;
2. take the entity's in-process lock, then its link row ``FOR UPDATE``: events of one entity
   are applied one at a time, in this process and across worker processes;
3. decide from the link row, path by path: the provider is sent only the paths the event
   changed (never those of a change that came from it, except what a conflict resolution
   re-sends), and of those only the ones no newer version has written already. An entity the
   provider does not have yet is created whole. Idempotency keys derive from the event id, so
   a redelivery after a crash replays instead of duplicating;
4. commit the link row, then report the outcome with the paths written (publish confirmed);
   the worker acks after.

A crash anywhere before the ack redelivers the event; steps 3-4 are safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import JsonValue
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.runtime.bus import Delivery
from services.runtime.db import retry_transient
from services.runtime.decode import decode_event
from services.runtime.errors import Permanent
from services.runtime.locks import KeyedLocks
from services.runtime.outbound.links import ProviderLink
from services.runtime.outbound.resource import Resource
from services.runtime.outbound.results import Reporter, Status, result_of
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


def parse(delivery: Delivery) -> EntityEvent:
    return decode_event(delivery.body, EntityEvent)


class OutboundHandler:
    def __init__(
        self,
        provider: Provider,
        links: type[ProviderLink],
        resources: Mapping[EntityKind, Resource],
        report: Reporter,
    ) -> None:
        self.provider = provider
        self.links = links
        self.resources = resources
        self.report = report
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

    async def apply(self, event: EntityEvent) -> Report:
        await self._ensure_link(event)
        async with in_transaction() as conn:
            link = await (
                self.links.filter(entity=event.entity.value, entity_id=event.entity_id)
                .using_db(conn)
                .select_for_update()
                .get()
            )
            if link.external_id is None:
                link.external_id = event.external_ids.get(self.provider)
            outcome = await self._apply_there(event, link)
            link.version = max(link.version, event.version)
            await link.save(using_db=conn)
        return outcome

    async def _apply_there(self, event: EntityEvent, link: ProviderLink) -> Report:
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
        values = {p: v for p, v in event.flat().items() if resource.syncs(p)}
        wanted = [p for p in event.paths_for(self.provider) if resource.syncs(p)]
        due = [p for p in wanted if event.version > versions.get(p, 0)]
        if event.origin == self.provider:
            for path in filter(resource.syncs, event.changed):  # the provider holds these
                versions[path] = max(versions.get(path, 0), event.version)
        outcome = Report("synced" if event.origin == self.provider else "skipped", link.external_id)
        sent_at = datetime.now(UTC)
        external_id = link.external_id
        if external_id is None:
            # A create, or an update whose create never reached the provider: the whole entity.
            key = idempotency_key(event.event_id)
            link.external_id = await resource.create(event.snapshot, key)
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
            created=external_id is None,
        )

    async def _ensure_link(self, event: EntityEvent) -> None:
        """Make sure the entity's link row exists, so that ``FOR UPDATE`` has a row to lock."""
        if await self.links.exists(entity=event.entity.value, entity_id=event.entity_id):
            return
        with contextlib.suppress(IntegrityError):  # another worker created it first
            await self.links.create(entity=event.entity.value, entity_id=event.entity_id)
