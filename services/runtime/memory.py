"""An in-process broker and bus for ``twoway dev``: no RabbitMQ, nothing durable.

Single process only: the queues live in this process's memory, so every service that shares
them must run in the same process (and event loop), and they are gone when it exits.

``MemoryBroker`` plays the RabbitMQ server and ``MemoryBus`` one connection to it, with the
same contract as ``AmqpBus``: the topology of ``shared.topology`` declared on connect; topic
exchanges routing on ``*``/``#`` with what no binding wants kept in the unrouted queue; the
default exchange ("") addressing a queue by name; manual acks with a prefetch window; unacked
deliveries of a closed connection (or stopped consumer) redelivered with ``redelivered=True``;
wait queues whose per-queue TTL moves a message back to its work queue (routing key replaced by
the work queue's name, as ``x-dead-letter-routing-key`` does); dead-letter queues.

Not emulated: persistence, the quorum queues' delivery limit, ``x-death`` headers.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.runtime.bus import (
    Bus,
    BusError,
    Delivery,
    Handler,
    OutgoingMessage,
    UnroutableError,
)
from services.runtime.providers import default_work_queues
from services.runtime.queues import QueueAdmin, QueuedMessage, QueueNotFound, Select, Take
from shared.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    UNROUTED_QUEUE,
    WorkQueue,
)

log = logging.getLogger(__name__)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])


# eq=False: two equal messages in one queue are still two messages (compared by identity).
@dataclass(frozen=True, eq=False)
class _Message:
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any]
    redelivered: bool = False
    expires_at: float | None = None

    def copy(self) -> QueuedMessage:
        return QueuedMessage(self.message_id, self.routing_key, self.body, dict(self.headers))


@dataclass
class _Queue:
    name: str
    ttl_ms: int | None = None
    dead_letter_to: str | None = None
    ready: deque[_Message] = field(default_factory=deque)
    consumers: list[_Consumer] = field(default_factory=list)


class MemoryDelivery(Delivery):
    def __init__(self, message: _Message, consumer: _Consumer, tag: int) -> None:
        self.message = message
        self.consumer = consumer
        self.tag = tag
        self.body = message.body
        self.message_id = message.message_id
        self.routing_key = message.routing_key
        self.headers = dict(message.headers)
        self.redelivered = message.redelivered

    async def ack(self) -> None:
        if self.consumer.unacked.pop(self.tag, None) is None:
            # RabbitMQ closes the channel on an unknown delivery tag; the connection of this
            # delivery is gone or it was acked before.
            raise BusError("ack failed: delivery is not outstanding on this connection")
        self.consumer.broker.dispatch(self.consumer.queue)


@dataclass(eq=False)
class _Consumer:
    broker: MemoryBroker
    queue: _Queue
    handler: Handler
    prefetch: int
    unacked: dict[int, MemoryDelivery] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def has_room(self) -> bool:
        return self.prefetch <= 0 or len(self.unacked) < self.prefetch


class MemoryBroker(QueueAdmin):
    """The exchanges and queues of one process. Also the ``QueueAdmin`` for them."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._bindings: dict[str, list[tuple[str, str]]] = {}
        self._tags = itertools.count(1)

    def declare_topology(
        self, retry_delays_ms: Sequence[int], queues: Sequence[WorkQueue] | None = None
    ) -> None:
        """Declare every exchange and the deployment's work queues (None: the default
        providers'); idempotent, like ``declare_topology``."""
        queues = default_work_queues() if queues is None else queues
        self._declare(UNROUTED_QUEUE)
        for exchange in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
            self._bindings.setdefault(exchange, [])
        for work in queues:
            self._declare(work.dead_letter)
            self._declare(work.name)
            for key in work.binding_keys:
                if (key, work.name) not in self._bindings[work.exchange]:
                    self._bindings[work.exchange].append((key, work.name))
            for delay in retry_delays_ms:
                self._declare(work.retry_queue(delay), ttl_ms=delay, dead_letter_to=work.name)

    def _declare(
        self, name: str, ttl_ms: int | None = None, dead_letter_to: str | None = None
    ) -> None:
        self._queues.setdefault(name, _Queue(name, ttl_ms, dead_letter_to))

    def _queue(self, name: str) -> _Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise QueueNotFound(f"no queue {name!r}") from None

    # -- publishing and delivering ------------------------------------------------------

    def route(self, exchange: str, message: OutgoingMessage) -> None:
        stored = _Message(
            message.routing_key, message.body, message.message_id, dict(message.headers)
        )
        if exchange == "":
            if message.routing_key not in self._queues:
                raise UnroutableError(f"no queue {message.routing_key!r} (default exchange)")
            self.enqueue(self._queues[message.routing_key], stored)
            return
        if exchange not in self._bindings:
            raise BusError(f"publish failed: no exchange {exchange!r}")
        targets = dict.fromkeys(
            queue
            for key, queue in self._bindings[exchange]
            if topic_matches(key, message.routing_key)
        )
        # The alternate exchange: what no binding wanted is kept, never dropped.
        for name in targets or (UNROUTED_QUEUE,):
            self.enqueue(self._queues[name], replace(stored, headers=dict(stored.headers)))

    def enqueue(self, queue: _Queue, message: _Message) -> None:
        if queue.ttl_ms is not None:
            loop = asyncio.get_running_loop()
            message = replace(message, expires_at=loop.time() + queue.ttl_ms / 1000)
            loop.call_later(queue.ttl_ms / 1000, self._expire, queue)
        queue.ready.append(message)
        self.dispatch(queue)

    def _expire(self, queue: _Queue) -> None:
        # Per-queue TTL: messages expire in arrival order, from the head of the queue.
        loop = asyncio.get_running_loop()
        now = loop.time()
        while queue.ready and (queue.ready[0].expires_at or 0) <= now:
            message = queue.ready.popleft()
            target = self._queues.get(queue.dead_letter_to or "")
            if target is not None:
                self.enqueue(target, replace(message, routing_key=target.name, expires_at=None))
        if queue.ready and queue.ready[0].expires_at is not None:
            loop.call_later(max(0.0, queue.ready[0].expires_at - now), self._expire, queue)

    def dispatch(self, queue: _Queue) -> None:
        """Hand ready messages to consumers with room in their prefetch window, round robin."""
        while queue.ready:
            ready = [c for c in queue.consumers if c.has_room()]
            if not ready:
                return
            consumer = ready[0]
            # Rotate so the next message goes to the next consumer.
            queue.consumers.remove(consumer)
            queue.consumers.append(consumer)
            tag = next(self._tags)
            delivery = MemoryDelivery(queue.ready.popleft(), consumer, tag)
            consumer.unacked[tag] = delivery
            # A context of its own, as a broker's delivery would have: the handler must not
            # inherit the publisher's (an open database transaction among its context
            # variables would become the handler's, and commit or roll back with it).
            task = asyncio.get_running_loop().create_task(
                _handle(consumer.handler, delivery), context=contextvars.Context()
            )
            consumer.tasks.add(task)
            task.add_done_callback(consumer.tasks.discard)
            task.add_done_callback(_log_failure)

    def attach(self, queue: str, handler: Handler, prefetch: int) -> _Consumer:
        consumer = _Consumer(self, self._queue(queue), handler, prefetch)
        consumer.queue.consumers.append(consumer)
        self.dispatch(consumer.queue)
        return consumer

    def detach(self, consumer: _Consumer) -> None:
        """The consumer stopped: cancel its handlers and requeue what it had not acked."""
        if consumer in consumer.queue.consumers:
            consumer.queue.consumers.remove(consumer)
        for task in consumer.tasks:
            task.cancel()
        returned = [d.message for _, d in sorted(consumer.unacked.items())]
        consumer.unacked.clear()
        consumer.queue.ready.extendleft(replace(m, redelivered=True) for m in reversed(returned))
        self.dispatch(consumer.queue)

    # -- QueueAdmin -----------------------------------------------------------------------

    async def count(self, queue: str) -> int:
        return len(self._queue(queue).ready)

    async def peek(self, queue: str, limit: int | None = None) -> list[QueuedMessage]:
        ready = list(self._queue(queue).ready)
        return [m.copy() for m in ready[:limit]]

    async def take(self, queue: str, take: Take, select: Select | None = None) -> int:
        source = self._queue(queue)
        taken = 0
        for message in list(source.ready):
            if message not in source.ready:
                continue  # delivered to a consumer meanwhile
            copy = message.copy()
            if select is not None and not select(copy):
                continue
            await take(copy)
            if message in source.ready:
                source.ready.remove(message)
                taken += 1
        return taken

    async def purge(self, queue: str) -> int:
        ready = self._queue(queue).ready
        count = len(ready)
        ready.clear()
        return count

    async def close(self) -> None:
        pass


async def _handle(handler: Handler, delivery: MemoryDelivery) -> None:
    await handler(delivery)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("message handler failed", exc_info=task.exception())


class MemoryBus(Bus):
    """One connection to a ``MemoryBroker``. Single process only (see the module docstring)."""

    def __init__(
        self,
        broker: MemoryBroker,
        retry_delays_ms: Sequence[int],
        queues: Sequence[WorkQueue] | None = None,
    ) -> None:
        self.broker = broker
        self._retry_delays_ms = tuple(retry_delays_ms)
        self._queues = tuple(default_work_queues() if queues is None else queues)
        self._closed: asyncio.Event | None = None
        self._consumers: list[_Consumer] = []

    @property
    def connected(self) -> bool:
        return self._closed is not None and not self._closed.is_set()

    async def connect(self) -> None:
        if not self.connected:
            self.broker.declare_topology(self._retry_delays_ms, self._queues)
            self._closed = asyncio.Event()

    async def close(self) -> None:
        if self._closed is not None:
            self._closed.set()
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            self.broker.detach(consumer)

    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[BaseException | None]:
        await self.connect()
        results: list[BaseException | None] = []
        for message in messages:
            try:
                self.broker.route(exchange, message)
            except BusError as exc:
                results.append(exc)
            else:
                results.append(None)
        return results

    async def consume(self, queue: WorkQueue, handler: Handler, prefetch: int) -> None:
        await self.connect()
        closed = self._closed
        assert closed is not None
        consumer = self.broker.attach(queue.name, handler, prefetch)
        self._consumers.append(consumer)
        try:
            await closed.wait()
        finally:
            if consumer in self._consumers:
                self._consumers.remove(consumer)
                self.broker.detach(consumer)
        raise BusError("connection to the broker closed")

    async def ping(self) -> bool:
        await self.connect()
        return True
