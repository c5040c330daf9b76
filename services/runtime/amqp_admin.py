"""RabbitMQ implementation of ``QueueAdmin``, on aio-pika.

Browsing uses ``basic.get`` without ack on a channel of its own: messages held unacked are
invisible to other consumers until the channel closes and RabbitMQ returns them. On quorum
queues every such return counts as a delivery attempt (``x-delivery-count``), and past the
queue's delivery limit (RabbitMQ 4: 20 by default) the message is dead-lettered or dropped. So
browse dead-letter queues, which are classic queues (services/runtime/amqp_topology.py), and
not work queues.

Quorum queues take returned messages back asynchronously: a channel's close completes before
they are ready again. Operations that return messages therefore wait (boundedly) until the
queue's ready count is back, so a ``peek`` right after a ``take`` sees what was left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from services.runtime.amqp import CONNECT_TIMEOUT_S
from services.runtime.bus import BusError
from services.runtime.queues import QueueAdmin, QueuedMessage, QueueNotFound, Select, Take

SETTLE_TIMEOUT_S = 5.0


def _copy(message: AbstractIncomingMessage) -> QueuedMessage:
    return QueuedMessage(
        message_id=message.message_id or "",
        routing_key=message.routing_key or "",
        body=message.body,
        headers=dict(message.headers or {}),
    )


class AmqpQueueAdmin(QueueAdmin):
    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: AbstractConnection | None = None

    async def _connect(self) -> AbstractConnection:
        if self._connection is None or self._connection.is_closed:
            try:
                self._connection = await aio_pika.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
                raise BusError(f"cannot connect to the broker: {type(exc).__name__}") from exc
        return self._connection

    @contextlib.asynccontextmanager
    async def _channel(self) -> AsyncIterator[AbstractChannel]:
        """A channel for one operation; closing it returns whatever it left unacked."""
        channel = await (await self._connect()).channel()
        try:
            yield channel
        finally:
            if not channel.is_closed:
                await channel.close()

    async def _ready_count(self, channel: AbstractChannel, queue: str) -> int:
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise QueueNotFound(f"no queue {queue!r}") from None
        return int(declared.declaration_result.message_count or 0)

    async def _settle(self, queue: str, at_least: int) -> None:
        """Wait until ``queue`` holds ``at_least`` ready messages again (see the docstring)."""
        if at_least <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        async with self._channel() as channel:
            while loop.time() < deadline:
                if await self._ready_count(channel, queue) >= at_least:
                    return
                await asyncio.sleep(0.02)

    async def count(self, queue: str) -> int:
        async with self._channel() as channel:
            return await self._ready_count(channel, queue)

    async def peek(self, queue: str, limit: int | None = None) -> list[QueuedMessage]:
        async with self._channel() as channel:
            waiting = await self._ready_count(channel, queue)
            # Stop at what waited at the start: a busy queue would otherwise never end.
            wanted = waiting if limit is None else min(limit, waiting)
            amqp_queue = await channel.get_queue(queue, ensure=False)
            out: list[QueuedMessage] = []
            while len(out) < wanted:
                message = await amqp_queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                out.append(_copy(message))
        await self._settle(queue, waiting)
        return out

    async def take(self, queue: str, take: Take, select: Select | None = None) -> int:
        waiting = taken = 0
        try:
            async with self._channel() as channel:
                waiting = await self._ready_count(channel, queue)
                amqp_queue = await channel.get_queue(queue, ensure=False)
                for _ in range(waiting):
                    message = await amqp_queue.get(no_ack=False, fail=False)
                    if message is None:
                        break
                    copy = _copy(message)
                    if select is not None and not select(copy):
                        continue  # left unacked: returned to the queue when the channel closes
                    await take(copy)
                    await message.ack()
                    taken += 1
        finally:
            await self._settle(queue, waiting - taken)
        return taken

    async def purge(self, queue: str) -> int:
        async with self._channel() as channel:
            await self._ready_count(channel, queue)
            amqp_queue = await channel.get_queue(queue, ensure=False)
            result = await amqp_queue.purge()
            return int(result.message_count or 0)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed:
            await asyncio.wait_for(connection.close(), 5.0)
