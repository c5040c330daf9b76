"""RabbitMQ implementation of the bus.

Two connections per bus: aio-pika's declares the topology and consumes; publishing goes through
``ConfirmPublisher`` (services/runtime/amqp_publisher.py), which costs a fraction of aiormq's
CPU per confirmed message. The bus counts as connected only while both are open.

Plain (not robust) connections: when one breaks, callers see a ``BusError`` and reconnect on
their own terms. Robust connections can hang publishes and lose consumers across a broker
restart; an explicit reconnect loop is easier to reason about.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
)

from services.runtime.amqp_publisher import ConfirmPublisher
from services.runtime.amqp_url import parse_url
from services.runtime.bus import (
    BrokerBusy,
    Bus,
    BusError,
    Delivery,
    Handler,
    OutgoingMessage,
    UnroutableError,
)
from services.runtime.cancel import raise_if_cancelling
from shared.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    UNROUTED_EXCHANGE,
    UNROUTED_QUEUE,
    WorkQueue,
    work_queues,
)

log = logging.getLogger(__name__)

DEFAULT_QUEUES = work_queues()
"""The work queues of a Stripe-only deployment: what a bus declares unless told."""

CONNECT_TIMEOUT_S = 5.0
# Errors about a message or the broker's state, not about the connection.
_NOT_A_FAILURE = (UnroutableError, BrokerBusy)
SETUP_TIMEOUT_S = 15.0
# Quorum queues need an explicit delivery limit: a message whose handler keeps crashing the
# process (and so never gets acked) is dead-lettered with reason ``delivery_limit``.
DELIVERY_LIMIT = 20


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
        queues: Sequence[WorkQueue] = DEFAULT_QUEUES,
    ) -> None:
        self._url = url
        self._endpoint = parse_url(url)
        self._retry_delays_ms = tuple(retry_delays_ms)
        self._queues = tuple(queues)
        self._connection: AbstractConnection | None = None
        self._publisher: ConfirmPublisher | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._publisher is not None
            and self._publisher.is_open
        )

    async def connect(self) -> None:
        async with self._lock:
            if self.connected:
                return
            await self._reset()
            try:
                # One deadline for connecting and declaring: a broker that accepts the TCP
                # connection but never answers must not hang its caller.
                async with asyncio.timeout(SETUP_TIMEOUT_S):
                    await self._open()
            except asyncio.CancelledError:
                await self._reset()
                # aiormq cancels its waiters when the server closes the connection mid-setup;
                # only a cancellation of this task itself is a cancellation.
                raise_if_cancelling()
                raise BusError("the broker closed the connection during set-up") from None
            except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
                await self._reset()
                raise BusError(f"cannot connect to the broker: {type(exc).__name__}") from exc
            except BusError:
                await self._reset()
                raise

    async def _open(self) -> None:
        self._connection = await aio_pika.connect(self._url, timeout=CONNECT_TIMEOUT_S)
        channel = await self._connection.channel()
        await declare_topology(channel, self._retry_delays_ms, self._queues)
        await channel.close()
        # Publishing has a connection of its own (see services.runtime.amqp_publisher).
        self._publisher = await ConfirmPublisher.open(self._endpoint, CONNECT_TIMEOUT_S)

    async def _reset(self) -> None:
        connection, self._connection = self._connection, None
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.close()
        if connection is not None and not connection.is_closed:
            try:
                await asyncio.wait_for(connection.close(), 2.0)
            except Exception:
                log.debug("error while closing a broken connection", exc_info=True)

    async def close(self) -> None:
        async with self._lock:
            await self._reset()

    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[BaseException | None]:
        if not messages:
            return []
        if not self.connected:
            # The deadline covers a reconnect too: a broker that accepts the TCP connection
            # but never answers must not hold the caller past it.
            try:
                async with asyncio.timeout(timeout):
                    await self.connect()
            except TimeoutError:
                raise BusError("cannot connect to the broker: TimeoutError") from None
        publisher = self._publisher
        assert publisher is not None
        # Every message is encoded and queued before the first await, so they leave in the
        # order given, all in flight at once, in one socket write.
        futures = [
            publisher.publish(exchange, m.routing_key, m.body, _properties(m)) for m in messages
        ]
        _, not_done = await asyncio.wait(futures, timeout=timeout)
        results: list[BaseException | None] = []
        for future in futures:
            if future in not_done:
                future.cancel()
                results.append(BusError(f"publish not confirmed within {timeout} s"))
            else:
                results.append(future.result())
        if any(isinstance(r, BusError) and not isinstance(r, _NOT_A_FAILURE) for r in results):
            # The connection is suspect: the next publish opens a new one.
            await self.close()
        return results

    async def consume(self, queue: WorkQueue, handler: Handler, prefetch: int) -> None:
        await self.connect()
        connection = self._connection
        assert connection is not None

        async def on_message(message: AbstractIncomingMessage) -> None:
            await handler(AmqpDelivery(message))

        gone = asyncio.Event()
        try:
            # Consuming gets a channel of its own so publishes of retries and dead letters (on
            # the main channel) never wait behind the prefetch window.
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
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
            raise BusError(f"consuming {queue.name} failed: {type(exc).__name__}") from exc
        raise BusError(f"the channel consuming {queue.name} closed")

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.connect(), CONNECT_TIMEOUT_S)
        except (BusError, TimeoutError):
            return False
        return self.connected


async def declare_topology(
    channel: AbstractChannel,
    retry_delays_ms: Sequence[int],
    queues: Sequence[WorkQueue] = DEFAULT_QUEUES,
) -> None:
    """Declare every exchange and the deployment's work queues; safe to run from every
    service."""
    unrouted = await channel.declare_exchange(
        UNROUTED_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
    )
    unrouted_queue = await channel.declare_queue(UNROUTED_QUEUE, durable=True)
    await unrouted_queue.bind(unrouted)
    alt: dict[str, Any] = {"alternate-exchange": UNROUTED_EXCHANGE}
    for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
        await channel.declare_exchange(
            name, aio_pika.ExchangeType.TOPIC, durable=True, arguments=alt
        )
    for work in queues:
        await declare_work_queue(channel, work, retry_delays_ms)


async def declare_work_queue(
    channel: AbstractChannel, work: WorkQueue, retry_delays_ms: Sequence[int]
) -> None:
    await channel.declare_queue(
        work.dead_letter, durable=True, arguments={"x-queue-type": "quorum"}
    )
    queue = await channel.declare_queue(
        work.name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": work.dead_letter,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    for key in work.binding_keys:
        await queue.bind(work.exchange, routing_key=key)
    for delay in retry_delays_ms:
        # A wait queue: messages sit out their TTL, then dead-letter back to the work queue.
        await channel.declare_queue(
            work.retry_queue(delay),
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": work.name,
            },
        )


def _properties(message: OutgoingMessage) -> dict[str, Any]:
    """A persistent JSON message's properties; ``message_id`` carries twoway's idempotency."""
    properties: dict[str, Any] = {
        "message_id": message.message_id,
        "content_type": "application/json",
        "delivery_mode": 2,
    }
    if message.headers:
        properties["headers"] = dict(message.headers)
    return properties
