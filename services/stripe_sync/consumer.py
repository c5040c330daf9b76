"""The handler of ``twoway.stripe_sync``: one customer event -> Stripe -> link row -> result.

Order of one handling, and why:
1. parse (a malformed body is Permanent: dead-lettered at once, nothing to report about);
2. take the entity's in-process lock, then its link row ``FOR UPDATE``: events of one entity
   are applied one at a time, in this process and across worker processes;
3. decide from the link row: stale or duplicate (version not newer) -> skip; a change that
   came from Stripe -> record it, call nothing; else create / update / delete at Stripe, with
   the event id as Idempotency-Key (a redelivery after a crash replays, never duplicates);
4. commit the link row, then report the outcome (publish confirmed); the worker acks after.

A crash anywhere before the ack redelivers the event; steps 3-4 are safe to repeat.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.runtime.bus import Delivery
from services.runtime.db import retry_transient
from services.runtime.decode import decode_event
from services.runtime.errors import Permanent
from services.runtime.worker import DeadLetter
from services.stripe_sync.locks import KeyedLocks
from services.stripe_sync.models import StripeLink
from services.stripe_sync.results import Reporter, Status, result_of
from services.stripe_sync.stripe.customers import StripeCustomers
from shared.events import CustomerEvent
from shared.kinds import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: Status
    external_id: str | None


def parse(delivery: Delivery) -> CustomerEvent:
    return decode_event(delivery.body, CustomerEvent)


def idempotency_key(event: CustomerEvent) -> str:
    return f"twoway-{event.event_id}"


class SyncHandler:
    def __init__(self, customers: StripeCustomers, report: Reporter) -> None:
        self.customers = customers
        self.report = report
        self.locks = KeyedLocks()

    async def __call__(self, delivery: Delivery) -> None:
        event = parse(delivery)
        async with self.locks.hold(f"{event.entity.value}:{event.entity_id}"):
            outcome = await retry_transient(lambda: self.apply(event))
            await self.report(result_of(event, outcome.status, outcome.external_id))
        log.info(
            "stripe sync",
            extra={
                "event_id": str(event.event_id),
                "entity_id": event.entity_id,
                "version": event.version,
                "outcome": outcome.status,
            },
        )

    async def report_dead_letter(self, delivery: Delivery, action: DeadLetter) -> None:
        """The worker's ``on_dead_letter`` hook: tell the CRUD side this version is stuck."""
        try:
            event = parse(delivery)
        except Permanent:
            return  # malformed: there is no entity to report about
        await self.report(result_of(event, "failed", None, action.error))

    async def apply(self, event: CustomerEvent) -> Outcome:
        await _ensure_link(event)
        async with in_transaction() as conn:
            link = await (
                StripeLink.filter(entity=event.entity.value, entity_id=event.entity_id)
                .using_db(conn)
                .select_for_update()
                .get()
            )
            if event.version <= link.version:
                return Outcome("skipped", link.external_id)
            status = await self._apply_to_stripe(event, link)
            link.version = event.version
            await link.save(using_db=conn)
        return Outcome(status, link.external_id)

    async def _apply_to_stripe(self, event: CustomerEvent, link: StripeLink) -> Status:
        """Bring Stripe to ``event``'s snapshot; update ``link`` (saved by the caller)."""
        if event.action == "deleted":
            if event.origin is Origin.APP and link.external_id and not link.deleted:
                await self.customers.delete(link.external_id)
            link.deleted = True
            return "synced"
        if link.deleted:
            return "skipped"  # deleted at a newer version: nothing may bring it back
        if event.origin is Origin.STRIPE:
            # Stripe already holds this state. Its id is not in the event, though.
            link.from_provider = link.from_provider or link.external_id is None
            link.metadata_keys = sorted(event.data.metadata)
            link.provider_email = event.data.email
            return "synced"
        if link.external_id is None and link.from_provider:
            link.external_id = await self._find_at_stripe(event, link)
        if link.external_id is not None:
            await self.customers.update(
                link.external_id,
                event.data,
                idempotency_key(event),
                dropped_keys=set(link.metadata_keys) - set(event.data.metadata),
            )
        else:
            # A create, or an update whose create never reached Stripe: the snapshot is whole.
            link.external_id = await self.customers.create(event.data, idempotency_key(event))
        link.metadata_keys = sorted(event.data.metadata)
        return "synced"

    async def _find_at_stripe(self, event: CustomerEvent, link: StripeLink) -> str:
        """The Stripe id of a customer that was created in Stripe (never by this worker)."""
        found = await self.customers.find(event.entity_id, link.provider_email or "")
        if len(found) != 1:
            raise Permanent(
                f"the customer was created in Stripe and {len(found)} Stripe customers match "
                f"it; creating another would duplicate it",
                "unknown_external_id",
            )
        return found[0]


async def _ensure_link(event: CustomerEvent) -> None:
    """Make sure the entity's link row exists, so that ``FOR UPDATE`` has a row to lock."""
    if await StripeLink.exists(entity=event.entity.value, entity_id=event.entity_id):
        return
    with contextlib.suppress(IntegrityError):  # another worker created it first
        await StripeLink.create(entity=event.entity.value, entity_id=event.entity_id)
