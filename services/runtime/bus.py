"""The message bus plug-in point: what services need from a broker, and nothing more.

``services.runtime.amqp.AmqpBus`` is the RabbitMQ implementation. Retry tiers, dead-lettering
and acknowledgement decisions live above this interface (``services.runtime.worker``), so every
implementation behaves the same way for them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.topology import WorkQueue


class BusError(Exception):
    """The broker could not take or confirm a message, or the connection is gone."""


class UnroutableError(BusError):
    """The broker returned a mandatory message: no queue would have received it."""


class BrokerBusy(BusError):
    """The broker takes no messages for now (a resource alarm); the connection itself is fine."""


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    headers: Mapping[str, Any] = field(default_factory=dict)


class Delivery(ABC):
    """One received message. It must be acked once it is handled (or handed on)."""

    body: bytes
    message_id: str
    routing_key: str
    headers: Mapping[str, Any]
    redelivered: bool

    @abstractmethod
    async def ack(self) -> None: ...


Handler = Callable[[Delivery], Awaitable[None]]


class Bus(ABC):
    """A broker connection that publishes with confirms and consumes with manual acks."""

    @abstractmethod
    async def connect(self) -> None:
        """Connect (if not connected) and declare the whole topology."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[BaseException | None]:
        """Publish all messages, many in flight, in order; return one result per message.

        ``None`` means the broker confirmed it; an exception says why it was not. Use the
        empty exchange name to address a queue by name (retry and dead-letter queues).
        """

    @abstractmethod
    async def consume(self, queue: WorkQueue, handler: Handler, prefetch: int) -> None:
        """Deliver messages of ``queue`` to ``handler`` until the connection is lost."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the broker is reachable now."""
