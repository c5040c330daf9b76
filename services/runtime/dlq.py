"""Dead-letter queues: what is in them, and putting messages back to work.

A replayed message goes to its work queue through the default exchange, with the worker's
attempt count and failure headers dropped so it gets the full set of retries again. It is
published with a confirm *before* it is removed from the dead-letter queue: a crash in between
leaves a duplicate (consumers dedupe on ``message_id``), never a loss.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from services.runtime.bus import Bus, OutgoingMessage
from services.runtime.queues import QueueAdmin, QueuedMessage
from shared.topology import (
    HEADER_ATTEMPTS,
    HEADER_LAST_ERROR,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    HEADER_SOURCE_QUEUE,
    WorkQueue,
)

# What a dead-lettering left on a message; dropped on replay so the message starts afresh.
_FAILURE_HEADERS = frozenset(
    {HEADER_ATTEMPTS, HEADER_REASON, HEADER_LAST_ERROR, HEADER_SOURCE_QUEUE, "x-delivery-count"}
)


@dataclass(frozen=True)
class DeadLetterSummary:
    message_id: str
    reason: str
    attempts: int | None
    last_error: str
    routing_key: str


def _first_death(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[-1], Mapping):
        return deaths[-1]
    return {}


def summarize(message: QueuedMessage) -> DeadLetterSummary:
    """The facts an operator scans for. Falls back to RabbitMQ's own ``x-death`` record for
    messages the broker dead-lettered itself (e.g. reason ``delivery_limit``)."""
    headers = message.headers
    death = _first_death(headers)
    death_keys = death.get("routing-keys") or []
    # Not ``x-delivery-count``: it counts deliveries from the work queue, not handling attempts.
    attempts = headers.get(HEADER_ATTEMPTS)
    return DeadLetterSummary(
        message_id=message.message_id,
        reason=str(headers.get(HEADER_REASON) or headers.get("x-first-death-reason") or "-"),
        attempts=int(attempts) if attempts is not None else None,
        last_error=str(headers.get(HEADER_LAST_ERROR) or ""),
        routing_key=str(headers.get(HEADER_ROUTING_KEY) or (death_keys[0] if death_keys else ""))
        or message.routing_key,
    )


async def list_dead_letters(
    admin: QueueAdmin, work: WorkQueue, limit: int | None = None
) -> list[QueuedMessage]:
    return await admin.peek(work.dead_letter, limit)


async def find(admin: QueueAdmin, work: WorkQueue, message_id: str) -> QueuedMessage | None:
    for message in await admin.peek(work.dead_letter):
        if message.message_id == message_id:
            return message
    return None


def fresh_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in headers.items()
        if k not in _FAILURE_HEADERS
        and not k.startswith(("x-death", "x-first-death", "x-last-death"))
    }


async def replay(
    admin: QueueAdmin, bus: Bus, work: WorkQueue, ids: Collection[str] | None = None
) -> list[str]:
    """Move dead letters (all, or those with the given message ids) back to the work queue.

    Returns the ids replayed, in queue order. Stops at the first publish the broker does not
    confirm; that message and the rest stay dead-lettered.
    """
    replayed: list[str] = []

    async def republish(message: QueuedMessage) -> None:
        outgoing = OutgoingMessage(
            routing_key=work.name,
            body=message.body,
            message_id=message.message_id,
            headers=fresh_headers(message.headers),
        )
        (result,) = await bus.publish("", [outgoing])
        if result is not None:
            raise result
        replayed.append(message.message_id)

    wanted = None if ids is None else set(ids)
    await admin.take(
        work.dead_letter,
        republish,
        select=None if wanted is None else (lambda m: m.message_id in wanted),
    )
    return replayed


async def purge(admin: QueueAdmin, work: WorkQueue) -> int:
    return await admin.purge(work.dead_letter)
