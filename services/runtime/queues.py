"""Looking into queues and taking messages out of them: what operators' tools need.

Kept apart from ``Bus`` because services never browse queues; the dead-letter CLI and tests
do. ``services.runtime.amqp_admin.AmqpQueueAdmin`` is the RabbitMQ implementation and
``services.runtime.memory.MemoryBroker`` the in-process one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.runtime.bus import BusError


class QueueNotFound(BusError):
    """No queue of that name exists (yet): nothing declared it."""


@dataclass(frozen=True)
class QueuedMessage:
    """A copy of a message waiting in a queue."""

    message_id: str
    routing_key: str
    body: bytes
    headers: Mapping[str, Any] = field(default_factory=dict)


Select = Callable[[QueuedMessage], bool]
Take = Callable[[QueuedMessage], Awaitable[None]]


class QueueAdmin(ABC):
    """Inspection and removal of the messages waiting (ready, not in flight) in a queue."""

    @abstractmethod
    async def count(self, queue: str) -> int:
        """How many messages wait in ``queue`` (in-flight deliveries not included)."""

    @abstractmethod
    async def peek(self, queue: str, limit: int | None = None) -> list[QueuedMessage]:
        """Copies of the waiting messages, oldest first; the queue is left as it was."""

    @abstractmethod
    async def take(self, queue: str, take: Take, select: Select | None = None) -> int:
        """Hand each selected waiting message to ``take``; remove it once ``take`` returned.

        When ``take`` raises, that message and every one not yet handed over stay in the
        queue and the error propagates. Returns how many messages were removed.
        """

    @abstractmethod
    async def purge(self, queue: str) -> int:
        """Remove every waiting message; return how many there were."""

    @abstractmethod
    async def close(self) -> None: ...
