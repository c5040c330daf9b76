"""The inbound consumer: commands from ``twoway.crud.inbound`` into ``apply``.

Failures map onto the one worker policy (``services.runtime.worker``): a malformed command or a
state twoway cannot hold is dead-lettered at once; a write that raced another is retried.
Every command ``apply`` settled counts once in ``twoway_inbound_commands_total`` by its outcome
(applied, duplicate, stale, noop, echo, gone); the failures count in the worker's metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pydantic import ValidationError
from tortoise.exceptions import IntegrityError

from services.crud.inbound.apply import Applier, LinkConflict, Outcome, Unrepresentable
from services.crud.sync.rules import ConflictRules
from services.runtime.bus import Bus, Delivery
from services.runtime.errors import Permanent, Retryable
from services.runtime.locks import KeyedLocks
from services.runtime.metrics import INBOUND_COMMANDS
from services.runtime.worker import Worker
from shared.commands import parse_command
from shared.topology import INBOUND_QUEUE

log = logging.getLogger(__name__)


class InboundHandler:
    def __init__(self, on_commit: Callable[[], None], rules: ConflictRules | None = None) -> None:
        self.on_commit = on_commit
        self.apply = Applier(rules)
        self.locks = KeyedLocks()

    async def __call__(self, delivery: Delivery) -> None:
        try:
            command = parse_command(delivery.body)
        except ValidationError as exc:
            raise Permanent(
                f"not an inbound command: {exc.error_count()} errors", "malformed"
            ) from None
        # One provider object's commands are applied one at a time, in the order they arrived:
        # the broker hands them over in the provider's delivery order, and running them side
        # by side would only reorder them again (and make them wait on each other's row lock).
        key = f"{command.provider.value}:{command.entity.value}:{command.external_id}"
        try:
            async with self.locks.hold(key):
                outcome = await self.apply(command)
        except LinkConflict as exc:
            raise Permanent(str(exc), "link_conflict") from None
        except Unrepresentable as exc:
            raise Permanent(str(exc), "unrepresentable") from None
        except IntegrityError as exc:
            # Another transaction wrote the same customer or link first; the retry sees it.
            raise Retryable(f"concurrent write: {exc}") from None
        if outcome is Outcome.APPLIED:
            self.on_commit()
        INBOUND_COMMANDS.labels(command.provider.value, outcome.value).inc()
        log.info(
            "inbound command",
            extra={
                "provider": command.provider.value,
                "provider_event_id": command.provider_event_id,
                "external_id": command.external_id,
                "outcome": outcome.value,
            },
        )


def inbound_worker(
    bus: Bus,
    on_commit: Callable[[], None],
    delays_ms: Sequence[int],
    rules: ConflictRules | None = None,
    prefetch: int = 50,
) -> Worker:
    handler = InboundHandler(on_commit, rules)
    return Worker(bus, INBOUND_QUEUE, handler, delays_ms, prefetch=prefetch)
