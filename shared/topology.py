"""Names of exchanges, queues and routing keys, and the retry tiers' naming rule.

Every service declares the whole topology at start-up (idempotently), so a message published
before its consumer first ran is already kept in that consumer's durable queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EVENTS_EXCHANGE = "twoway.events"
"""Durable topic exchange for domain events (``<entity>.<action>``) and sync results."""

COMMANDS_EXCHANGE = "twoway.commands"
"""Durable topic exchange for inbound commands (``inbound.<provider>.<entity>.<action>``)."""

UNROUTED_EXCHANGE = "twoway.unrouted"
UNROUTED_QUEUE = "twoway.unrouted"
"""Alternate exchange of the two above: what no queue wanted is kept here, never dropped."""


@dataclass(frozen=True)
class WorkQueue:
    """A consumer's durable queue, its bindings, and its retry and dead-letter queues."""

    name: str
    exchange: str
    binding_keys: tuple[str, ...]

    @property
    def dead_letter(self) -> str:
        # The name the work queue's ``x-dead-letter-routing-key`` names: it cannot change without
        # redeclaring the work queue. This queue became a classic one, and a queue's type cannot
        # change once declared: see README, "Upgrading the broker topology".
        return f"{self.name}.dlq"

    def retry_queue(self, delay_ms: int) -> str:
        # The delay is in the name: a queue's TTL cannot change once declared, so changing the
        # tiers declares new queues instead of failing with PRECONDITION_FAILED. ``.wait``, not
        # the former ``.retry``: these became quorum queues, for the same reason.
        return f"{self.name}.wait.{delay_ms}ms"


ENTITY_EVENT_KEYS = ("*.created", "*.updated", "*.deleted")
"""Every entity kind's events (``<kind>.<action>``), and nothing else: a provider worker's queue
takes all of them (each provider's queue receives every entity event: fan-out)."""

SYNC_RESULTS_QUEUE = WorkQueue("twoway.crud.sync_results", EVENTS_EXCHANGE, ("sync.#",))
INBOUND_QUEUE = WorkQueue("twoway.crud.inbound", COMMANDS_EXCHANGE, ("inbound.#",))


def provider_queue(provider: str) -> WorkQueue:
    """A provider worker's queue (``twoway.<provider>_sync``): declared only where that provider
    is enabled (``TWOWAY_PROVIDERS``), or it would keep every event for a worker that never
    comes."""
    return WorkQueue(f"twoway.{provider}_sync", EVENTS_EXCHANGE, ENTITY_EVENT_KEYS)


def work_queues(providers: Iterable[str]) -> tuple[WorkQueue, ...]:
    """The work queues of a deployment whose enabled providers are ``providers``."""
    return (*(provider_queue(p) for p in providers), SYNC_RESULTS_QUEUE, INBOUND_QUEUE)


DEFAULT_RETRY_DELAYS_MS: tuple[int, ...] = (1_000, 5_000, 30_000, 120_000, 600_000)
"""Backoff tiers: attempt n waits in tier n; after the last tier a message is dead-lettered."""

# Headers set on retried and dead-lettered messages.
HEADER_ATTEMPTS = "x-twoway-attempts"
HEADER_REASON = "x-twoway-reason"
HEADER_LAST_ERROR = "x-twoway-last-error"
HEADER_SOURCE_QUEUE = "x-twoway-source-queue"
HEADER_ROUTING_KEY = "x-twoway-routing-key"
"""The routing key a message first had: retry and dead-letter hops address queues by name."""
