"""``CrudTarget``: the repair jobs' view of the app's data, and their only ways to change it.

Provider state goes through the inbound path itself (``services.crud.inbound.apply``: inbox,
link, merge with its conflict rules, shadow, outbox), called in-process so the job hears each
outcome at once (ambiguous, failed, imported) instead of finding it in a dead-letter queue.
Pushes are outbox events, as an API write would make. Every registered kind is served the
same way, from its slice (``entities``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from tortoise import connections
from tortoise.exceptions import IntegrityError

from services.crud.inbound.apply import Applier, LinkConflict, Outcome, Unrepresentable
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.repair import entities
from services.crud.sync.rules import ConflictRules
from services.runtime.db import retry_transient
from services.runtime.links.models import ExternalLink
from services.runtime.links.shadow import Shadow
from services.runtime.repair.source import Observed
from services.runtime.repair.target import Difference, Local, Look, Result, Verdict
from services.runtime.transactions import transaction
from shared.commands import Upsert
from shared.events import parse_event
from shared.fields import changed_paths, fields_of
from shared.kinds import EntityKind, Provider


class _DryRun(Exception):
    def __init__(self, result: Result) -> None:
        self.result = result


class CrudTarget:
    def __init__(self, provider: Provider, rules: ConflictRules | None = None) -> None:
        self.provider = provider
        self.applier = Applier(rules)

    async def looks(self, kind: EntityKind, items: Sequence[Observed]) -> list[Look]:
        external_ids = [item.external_id for item in items]
        links = await ExternalLink.filter(
            provider=self.provider.value,
            entity=kind.value,
            external_id__in=external_ids,
            deleted=False,
            entity_id__isnull=False,
        )
        by_external = {link.external_id: link for link in links}
        states = await entities.states(
            connections.get("default"), kind, [str(link.entity_id) for link in links]
        )
        out: list[Look] = []
        for item in items:
            link = by_external.get(item.external_id)
            state = states.get(str(link.entity_id)) if link is not None else None
            if link is None or state is None:
                out.append(Look(item.external_id, None))
                continue
            ours, clock = state
            theirs = item.flat()
            if item.holds is not None:
                ours = {p: v for p, v in ours.items() if fields_of([p]) <= item.holds}
            shadow = Shadow.load(link.shadow)
            differences = [
                Difference(
                    path,
                    ours.get(path),
                    theirs.get(path),
                    pending=clock.version(path) > shadow.confirmed(path),
                    known=theirs.get(path) == shadow.values().get(path),
                )
                for path in sorted(changed_paths(ours, theirs))
            ]
            out.append(Look(item.external_id, link.entity_id, differences))
        return out

    async def apply(self, command: Upsert, dry_run: bool = False) -> Result:
        if not dry_run:
            return await self._apply(command)
        try:
            async with transaction():
                raise _DryRun(await self._apply(command))
        except _DryRun as rolled_back:
            return rolled_back.result

    async def _apply(self, command: Upsert) -> Result:
        try:
            outcome = await self.applier(command)
        except LinkConflict as exc:
            return Result(Verdict.AMBIGUOUS, detail=str(exc))
        except Unrepresentable as exc:
            return Result(Verdict.FAILED, detail=str(exc))
        except IntegrityError as exc:
            # e.g. the provider's email is another local customer's: never merged blindly.
            return Result(Verdict.FAILED, detail=f"refused by the database: {exc}")
        entry = await InboxEntry.get_or_none(
            provider=self.provider.value, event_id=command.provider_event_id
        )
        if entry is None:
            return Result(Verdict.FAILED, detail=f"no trace of {outcome.value}")
        return await self._verdict(entry)

    async def earlier(self, kind: EntityKind, event_ids: Sequence[str]) -> dict[str, Result]:
        entries = await InboxEntry.filter(provider=self.provider.value, event_id__in=event_ids)
        return {entry.event_id: await self._verdict(entry) for entry in entries}

    async def _verdict(self, entry: InboxEntry) -> Result:
        outcome = Outcome(entry.outcome)
        # The link, not the inbox row: an import's inbox row has no entity id.
        link = await ExternalLink.get_or_none(
            provider=self.provider.value, entity=entry.entity, external_id=entry.external_id
        )
        entity_id = link.entity_id if link is not None else None
        if outcome is Outcome.GONE:
            return Result(Verdict.GONE, entity_id, "deleted here: never brought back")
        if entity_id is None:
            return Result(Verdict.FAILED, detail=f"{outcome.value} without an entity")
        if outcome is Outcome.APPLIED and await self._created(entry, entity_id):
            return Result(Verdict.IMPORTED, entity_id, wrote=True)
        return Result(Verdict.LINKED, entity_id, wrote=outcome is Outcome.APPLIED)

    async def _created(self, entry: InboxEntry, entity_id: str) -> bool:
        """The entity was made from this provider object: its creation event says so."""
        row = await OutboxEvent.filter(
            entity=entry.entity, entity_id=entity_id, routing_key=f"{entry.entity}.created"
        ).first()
        if row is None:
            return False
        event = parse_event(row.payload)
        origin = getattr(event, "origin", None)
        ids = getattr(event, "external_ids", {})
        return bool(origin == self.provider and ids.get(self.provider) == entry.external_id)

    async def unsynced(self, kind: EntityKind, after: str | None, limit: int) -> list[Local]:
        return await entities.unsynced(kind, self.provider, after, limit)

    async def push(
        self, kind: EntityKind, entity_ids: Sequence[str], then: Callable[[], Awaitable[None]]
    ) -> int:
        async def tx() -> int:
            async with transaction() as conn:
                pushed = await entities.push(conn, kind, entity_ids)
                await then()
            return pushed

        # It locks a batch of entities while the API, the relay and the inbound consumer write
        # theirs: a deadlock is the database's to report and this batch's to run again.
        return await retry_transient(tx)
