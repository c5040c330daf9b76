"""Linking an entity to an object the provider already has, instead of creating another.

When may a worker's create link instead: while ``twoway reconcile`` is adopting the provider's
objects of that kind (a run is under way), and always when the deployment says so
(``link_by_match``: e.g. ``TWOWAY_STRIPE_LINK_BY_EMAIL``). Reconcile would link the entity to
the object it matches by the kind's match key (a customer's email), so a create handled
meanwhile does what reconcile would: whatever order the two run in, the result is the same.

The rule is reconcile's: exactly one object matches and no other entity holds it -> linked, and
the object's state goes through the inbound merge (an inbound command, as reconcile applies
it), whose conflict rules decide each field that differs; several -> ambiguous: none is
linked, the entity is held back and reported (never merged); none -> created.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from services.runtime.bus import Bus, OutgoingMessage
from services.runtime.errors import Retryable
from services.runtime.links.models import ExternalLink
from services.runtime.repair.models import ReconcileRun
from services.runtime.repair.source import Observed
from shared.commands import Upsert, command_routing_key, dump_command
from shared.kinds import EntityKind, Provider
from shared.topology import COMMANDS_EXCHANGE

# A run whose checkpoint has not moved for this long is taken for dead (a killed process):
# it no longer makes creates look for a match. ``--resume`` brings it back.
RUN_SILENCE = timedelta(minutes=10)


@dataclass(frozen=True)
class Adopted:
    external_id: str
    command: Upsert


@dataclass(frozen=True)
class Ambiguous:
    external_ids: tuple[str, ...]


class Adoption:
    def __init__(
        self,
        provider: Provider,
        announce: Callable[[Upsert], Awaitable[None]],
        link_by_match: bool = False,
    ) -> None:
        self.provider = provider
        self.announce = announce
        self.link_by_match = link_by_match

    async def applies(self, conn: BaseDBAsyncClient, kind: EntityKind) -> bool:
        """``conn``: the handling's transaction (on SQLite, the one connection it holds)."""
        if self.link_by_match:
            return True
        since = datetime.now(UTC) - RUN_SILENCE
        return await (
            ReconcileRun.filter(
                provider=self.provider.value,
                entity=kind.value,
                status="running",
                updated_at__gte=since,
            )
            .using_db(conn)
            .exists()
        )

    async def choose(
        self,
        conn: BaseDBAsyncClient,
        kind: EntityKind,
        local_id: str,
        matches: Sequence[Observed],
        event_id: str,
    ) -> Adopted | Ambiguous | None:
        """Of the objects matching the entity, the one to link (its state as an inbound
        command under a synthetic id), or the ambiguity, or None: create."""
        free = []
        for found in matches:
            if found.local_id not in (None, local_id):
                continue  # another entity's object
            held = await (
                ExternalLink.filter(
                    provider=self.provider.value, entity=kind.value, external_id=found.external_id
                )
                .using_db(conn)
                .exists()
            )
            if not held:
                free.append(found)
        if not free:
            return None
        if len(free) > 1:
            return Ambiguous(tuple(sorted(f.external_id for f in free)))
        (only,) = free
        return Adopted(only.external_id, only.as_command(f"adopt:{event_id}", "adopt"))


def announcer(bus: Bus, timeout_s: float = 10.0) -> Callable[[Upsert], Awaitable[None]]:
    """Publish an adopted object's state on ``twoway.commands``, as webhooks are (confirmed
    before the handling goes on: unconfirmed, the event is retried and adopts it again)."""

    async def announce(command: Upsert) -> None:
        message = OutgoingMessage(
            command_routing_key(command), dump_command(command), command.message_id
        )
        (outcome,) = await bus.publish(COMMANDS_EXCHANGE, [message], timeout=timeout_s)
        if outcome is not None:
            raise Retryable(f"could not hand the adopted object over: {outcome}")

    return announce
