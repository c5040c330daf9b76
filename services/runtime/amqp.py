"""RabbitMQ implementation of the bus, on aio-pika.

Two connections per bus that fail apart: one publishes (``services.runtime.amqp_publishing``:
a confirm-mode channel; it also declares the topology), the other consumes (a channel per
consumer). A publish that times out, a nack or a channel the broker closed affects publishing
only: consumers keep their channels and the deliveries they hold. ``connected`` and ``ping``
(``/readyz``) speak for the publishing side, which every service has.

Plain (not robust) connections: when one breaks, callers see a ``BusError`` and reconnect on
their own terms. Robust connections can hang publishes and lose consumers across a broker
restart; an explicit reconnect loop is easier to reason about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import aiormq
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from services.runtime.amqp_publishing import (
    CONNECT_TIMEOUT_S,
    Publisher,
    alive,
    close_quietly,
    connection_errors,
    open_connection,
)
from services.runtime.amqp_topology import DELIVERY_LIMIT, declare_topology
from services.runtime.bus import Bus, BusError, Delivery, Handler, OutgoingMessage
from services.runtime.cancel import raise_if_cancelling
from services.runtime.providers import default_work_queues
from services.runtime.settings import ConfigError
from shared.topology import WorkQueue

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DELIVERY_LIMIT",
    "AmqpBus",
    "AmqpDelivery",
    "declare_topology",
]

SETUP_TIMEOUT_S = 15.0
T = TypeVar("T")


class AmqpDelivery(Delivery):
    def __init__(self, message: AbstractIncomingMessage) -> None:
        self._message = message
        self.body = message.body
        self.message_id = message.message_id or ""
        self.routing_key = message.routing_key or ""
        self.headers = dict(message.headers or {})
        self.redelivered = bool(message.redelivered)

    async def ack(self) -> None:
        try:
            await self._message.ack()
        except (aiormq.exceptions.ChannelInvalidStateError, aiormq.exceptions.AMQPError) as exc:
            # The channel this delivery came on is gone; the broker will redeliver it.
            raise BusError(f"ack failed: {exc}") from exc


class AmqpBus(Bus):
    def __init__(
        self,
        url: str,
        retry_delays_ms: Sequence[int],
        queues: Sequence[WorkQueue] | None = None,
    ) -> None:
        """``queues``: the work queues it declares (None: the default providers')."""
        self._url = url
        self._retry_delays_ms = tuple(retry_delays_ms)
        self._queues = tuple(default_work_queues() if queues is None else queues)
        self._publisher = Publisher(url, self._declare)
        self._consuming: AbstractConnection | None = None
        self._consuming_lock = asyncio.Lock()
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._publisher.ready

    async def _declare(self, connection: AbstractConnection) -> None:
        channel = await connection.channel()
        try:
            await declare_topology(channel, self._retry_delays_ms, self._queues)
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            # Retrying cannot help: a queue's arguments only change by deleting it.
            raise TopologyMismatch(
                f"the broker holds a queue declared otherwise than this release declares it "
                f"({_server_text(exc)}): run `twoway doctor` for the fix"
            ) from None
        await channel.close()

    async def connect(self) -> None:
        """Open the publishing side (declaring the topology) unless it is open."""
        await _setting_up(self._publisher.open())

    async def close(self) -> None:
        """Close both connections, for good. A consumer's handler still running (aio-pika runs
        each in a task of its own, cancelled only once the consuming channel closes) would
        otherwise reconnect to report its outcome, on a connection nobody closes: its tasks
        outlive the process's loop (in tests, that loop's test), to be destroyed pending."""
        self._closed = True  # before any await: a consumer waiting for the lock sees it
        await self._publisher.close()
        async with self._consuming_lock:
            connection, self._consuming = self._consuming, None
        await close_quietly(connection)

    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[BaseException | None]:
        if not messages:
            return []
        if not self._publisher.ready:
            # The deadline covers a reconnect too: a broker that accepts the TCP connection
            # but never answers must not hold the caller past it.
            try:
                async with asyncio.timeout(timeout):
                    await self.connect()
            except TimeoutError:
                raise BusError("cannot connect to the broker: TimeoutError") from None
        return await self._publisher.publish(exchange, messages, timeout)

    async def _consumer_connection(self) -> AbstractConnection:
        async with self._consuming_lock:
            if self._closed:
                raise BusError("the bus is closed")
            connection = self._consuming
            if connection is None or not alive(connection):
                self._consuming = None
                connection = await _setting_up(open_connection(self._url, "consumer"))
                self._consuming = connection
            return connection

    async def consume(self, queue: WorkQueue, handler: Handler, prefetch: int) -> None:
        await self.connect()  # the topology is declared, so the queue is there
        connection = await self._consumer_connection()

        async def on_message(message: AbstractIncomingMessage) -> None:
            await handler(AmqpDelivery(message))

        gone = asyncio.Event()
        try:
            channel = await connection.channel()
            channel.close_callbacks.add(lambda *_: gone.set())
            connection.close_callbacks.add(lambda *_: gone.set())
            await channel.set_qos(prefetch_count=prefetch)
            amqp_queue = await channel.get_queue(queue.name, ensure=False)
            await amqp_queue.consume(on_message)
            # Until the connection *or* this channel closes: a consumer whose channel the
            # broker closed must come back, not sit silently on a live connection.
            await gone.wait()
        except asyncio.CancelledError:
            raise_if_cancelling()
            raise BusError("the broker closed the connection") from None
        except connection_errors() as exc:
            raise BusError(f"consuming {queue.name} failed: {type(exc).__name__}") from exc
        raise BusError(f"the channel consuming {queue.name} closed")

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.connect(), CONNECT_TIMEOUT_S)
        except (BusError, TimeoutError):
            return False
        return self.connected


class TopologyMismatch(ConfigError):
    """A queue exists with other arguments than this release declares."""


def _server_text(exc: BaseException) -> str:
    text = " ".join(str(a) for a in exc.args) or str(exc)
    return text.removeprefix("PRECONDITION_FAILED - ")


async def _setting_up(opening: Awaitable[T]) -> T:
    """``opening`` under one deadline (a broker that accepts the TCP connection but never
    answers must not hang its caller), its failures as ``BusError``."""
    try:
        async with asyncio.timeout(SETUP_TIMEOUT_S):
            return await opening
    except asyncio.CancelledError:
        # aiormq cancels its waiters when the server closes the connection mid-setup; only a
        # cancellation of this task itself is a cancellation.
        raise_if_cancelling()
        raise BusError("the broker closed the connection during set-up") from None
    except connection_errors() as exc:
        raise BusError(f"cannot connect to the broker: {type(exc).__name__}") from exc
