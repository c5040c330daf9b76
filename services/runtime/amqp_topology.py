"""The RabbitMQ topology: exchanges, work queues, their wait queues and dead-letter queues.

| queue                     | type    | why                                                    |
|---------------------------|---------|--------------------------------------------------------|
| ``<work>``                | quorum  | replicated; ``x-delivery-limit`` ends crash loops      |
| ``<work>.wait.<n>ms``     | quorum  | the retry hop back to ``<work>`` is at-least-once      |
| ``<work>.dlq``            | classic | browsing (``twoway dlq list``) never uses a delivery   |
|                           |         | limit up, so nothing there is ever dropped             |

A wait queue holds a message for its TTL, then dead-letters it to its work queue. Classic
queues do that at most once: a work queue that cannot take the message then (a restart, a
full queue) loses it. Quorum queues with ``x-dead-letter-strategy: at-least-once`` keep it until
the work queue confirmed it; that strategy needs ``x-overflow: reject-publish``.

A dead-letter queue is browsed by taking messages without ack and handing them back. On a
quorum queue every hand-back counts as a delivery, and RabbitMQ 4 gives quorum queues a
delivery limit of 20 by default, past which messages are dropped; classic queues count none.

A queue's type and arguments cannot change once declared (PRECONDITION_FAILED): the wait
queues got new names when they changed; the dead-letter queues kept theirs, which the work
queues' arguments name, and are deleted and declared anew (README, "Upgrading the broker
topology").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel

from services.runtime.providers import default_work_queues
from shared.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    UNROUTED_EXCHANGE,
    UNROUTED_QUEUE,
    WorkQueue,
)

# Quorum queues need an explicit delivery limit: a message whose handler keeps crashing the
# process (and so never gets acked) is dead-lettered with reason ``delivery_limit``.
DELIVERY_LIMIT = 20

AT_LEAST_ONCE: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-dead-letter-exchange": "",
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


def planned_queues(
    retry_delays_ms: Sequence[int], queues: Sequence[WorkQueue] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Every queue this release declares, with its arguments, in declaration order (``queues``
    None: the default providers')."""
    queues = default_work_queues() if queues is None else queues
    planned: list[tuple[str, dict[str, Any]]] = [(UNROUTED_QUEUE, {})]
    for work in queues:
        planned.append((work.dead_letter, {"x-queue-type": "classic"}))
        planned.append(
            (
                work.name,
                {
                    **AT_LEAST_ONCE,
                    "x-delivery-limit": DELIVERY_LIMIT,
                    "x-dead-letter-routing-key": work.dead_letter,
                },
            )
        )
        # Nothing consumes a wait queue: its messages sit out the TTL (which only expires at
        # the head, hence one queue per delay), then go back to the work queue.
        planned.extend(
            (
                work.retry_queue(delay),
                {**AT_LEAST_ONCE, "x-message-ttl": delay, "x-dead-letter-routing-key": work.name},
            )
            for delay in retry_delays_ms
        )
    return planned


async def declare_topology(
    channel: AbstractChannel,
    retry_delays_ms: Sequence[int],
    queues: Sequence[WorkQueue] | None = None,
) -> None:
    """Declare every exchange and the deployment's work queues (None: the default
    providers'); safe to run from every service."""
    queues = default_work_queues() if queues is None else queues
    unrouted = await channel.declare_exchange(
        UNROUTED_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
    )
    alt: dict[str, Any] = {"alternate-exchange": UNROUTED_EXCHANGE}
    for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
        await channel.declare_exchange(
            name, aio_pika.ExchangeType.TOPIC, durable=True, arguments=alt
        )
    declared = {}
    for name, arguments in planned_queues(retry_delays_ms, queues):
        declared[name] = await channel.declare_queue(name, durable=True, arguments=arguments)
    await declared[UNROUTED_QUEUE].bind(unrouted)
    for work in queues:
        for key in work.binding_keys:
            await declared[work.name].bind(work.exchange, routing_key=key)
