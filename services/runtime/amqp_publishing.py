"""Publishing on aio-pika: a connection and a confirm-mode channel of its own.

- Every message is ``mandatory`` and persistent; a batch goes out in order with every message
  in flight at once, and each one's outcome is the broker's: ``None`` once it confirmed,
  ``UnroutableError`` when it returned the message, ``BrokerBusy`` when it nacked it (a full
  queue) or blocks publishers (``connection.blocked``: a memory or disk alarm, answered at once
  instead of at the caller's deadline).
- aiormq waits for its socket writes to drain (once per batch, after its last message), so a
  slow broker slows publishers down instead of growing a buffer (transport back-pressure).
- aiormq matches a returned message to its publish by ``message_id``, which twoway reuses on
  purpose (retries, redeliveries, a relay re-publishing): a publish waits while an earlier one
  with the same id is in flight, so a return is never blamed on the wrong message. Unless the
  earlier one is the same message (exchange, routing key, body, headers: a provider delivering
  one event twice at once): then it takes that one's outcome instead of sending a copy, which
  consumers, deduplicating on the id, would drop anyway.
- A batch is checked before anything is sent: a message AMQP cannot carry fails the batch
  whole, never after part of it left.
- Failures stay here. A channel the broker closed (say, an unknown exchange) is replaced by a
  new one on the same connection; a publish not confirmed in time drops this connection and
  the next publish opens another. The connection that consumes is never touched.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection

from services.runtime.bus import BrokerBusy, BusError, OutgoingMessage, UnroutableError
from services.runtime.cancel import raise_if_cancelling

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
MAX_SHORT_STRING = 255
# What an AMQP field table can carry (pamqp's encoder), checked before a batch is sent.
_SCALARS = (str, bytes, bool, int, float, decimal.Decimal, datetime.datetime, type(None))

OnConnect = Callable[[AbstractConnection], Awaitable[None]]


def connection_errors() -> tuple[type[BaseException], ...]:
    """What connecting, declaring or publishing raises when the broker or the link fails."""
    return (
        aiormq.exceptions.AMQPError,
        # aiormq's word for "that connection or channel is closed" (ChannelInvalidStateError
        # and a bare RuntimeError from opening a channel on a dead connection).
        RuntimeError,
        ConnectionError,
        OSError,
        TimeoutError,
    )


async def open_connection(url: str, role: str) -> AbstractConnection:
    """A plain (not robust) aio-pika connection, named for the broker's management views.

    aio-pika reads the URL's options: ``heartbeat``, TLS (``cafile``, ``certfile``, ``keyfile``,
    ``no_verify_ssl``) and the login mechanism (``auth``)."""
    return await aio_pika.connect(
        url, timeout=CONNECT_TIMEOUT_S, client_properties={"connection_name": f"twoway {role}"}
    )


async def close_quietly(connection: AbstractConnection | None) -> None:
    if connection is None or connection.is_closed:
        return
    try:
        await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_S)
    except Exception:
        log.debug("error while closing a broker connection", exc_info=True)


def alive(connection: AbstractConnection | None) -> bool:
    """Open, by aiormq's account too: aio-pika learns of a dropped connection a little later."""
    if connection is None or connection.is_closed:
        return False
    underlay = getattr(getattr(connection, "transport", None), "connection", None)
    return underlay is not None and not underlay.is_closed


def blocked(connection: AbstractConnection) -> bool:
    """Whether the broker blocks this connection's publishes (``connection.blocked``).

    aiormq tracks the state but publishes nothing about it: read its flag, and say False when
    an aiormq version no longer has it (publishes then wait out their deadline instead)."""
    transport = getattr(connection, "transport", None)
    underlay = getattr(transport, "connection", None)
    unblocked = getattr(underlay, "_Connection__connection_unblocked", None)
    return isinstance(unblocked, asyncio.Event) and not unblocked.is_set()


def unencodable(message: OutgoingMessage) -> str | None:
    """Why AMQP cannot carry ``message`` (None when it can)."""
    if len(message.routing_key.encode()) > MAX_SHORT_STRING:
        return "routing key longer than 255 bytes"
    if len(message.message_id.encode()) > MAX_SHORT_STRING:
        return "message id longer than 255 bytes"
    if not isinstance(message.body, bytes):
        return f"body is {type(message.body).__name__}, not bytes"
    return _unencodable_value(dict(message.headers))


def _unencodable_value(value: Any) -> str | None:
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or len(key.encode()) > MAX_SHORT_STRING:
                return f"header name {key!r} is not a short string"
            if (why := _unencodable_value(item)) is not None:
                return why
        return None
    if isinstance(value, list | tuple):
        return next((w for w in map(_unencodable_value, value) if w is not None), None)
    return f"a header value of type {type(value).__name__}"


class Publisher:
    """Confirmed publishing on a connection of its own; ``on_connect`` runs on every new one
    (the bus declares its topology there)."""

    def __init__(self, url: str, on_connect: OnConnect) -> None:
        self._url = url
        self._on_connect = on_connect
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._in_flight: dict[str, _Flight] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def is_open(self) -> bool:
        return alive(self._connection)

    @property
    def ready(self) -> bool:
        """Open, with a channel to publish on."""
        return self.is_open and self._channel is not None and not self._channel.is_closed

    async def open(self) -> None:
        """Connect (and run ``on_connect``) unless connected; a confirm channel either way."""
        async with self._lock:
            if self._closed:
                raise BusError("the publisher is closed")
            if not self.is_open:
                await self._reset()
                try:
                    self._connection = await open_connection(self._url, "publisher")
                    await self._on_connect(self._connection)
                except BaseException:
                    await self._reset()
                    raise
            if self._channel is None or self._channel.is_closed:
                assert self._connection is not None
                self._channel = await self._connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )

    async def close(self) -> None:
        """For good: an ``open`` waiting for the lock, or any later one, fails."""
        self._closed = True
        await self._drop()

    async def _drop(self) -> None:
        """Drop the connection; the next ``open`` makes another."""
        async with self._lock:
            await self._reset()

    async def _reset(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = None
        await close_quietly(connection)

    async def publish(
        self, exchange: str, messages: Sequence[OutgoingMessage], timeout: float
    ) -> list[BaseException | None]:
        """One outcome per message (see the module docstring); the caller has ``open()``-ed."""
        channel, connection = self._channel, self._connection
        if channel is None or connection is None or channel.is_closed:
            return [BusError("the publisher is not open")] * len(messages)
        for index, message in enumerate(messages):
            if (why := unencodable(message)) is not None:
                bad = BusError(f"message {message.message_id!r} cannot be encoded: {why}")
                skipped = BusError(f"not sent: message {index} of the batch cannot be encoded")
                return [bad if m is message else skipped for m in messages]
        if blocked(connection):
            # The broker would not read them until the alarm clears: say so now.
            busy = BrokerBusy("the broker blocks publishing (a resource alarm)")
            return [busy] * len(messages)
        # aiormq's own channel: its publish takes ``wait`` (the abstract one does not say so).
        underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
        if len(messages) == 1:
            # One message (a webhook's command): no task, the deadline on this one.
            try:
                async with asyncio.timeout(timeout):
                    return [await self._publish_one(underlay, exchange, messages[0])]
            except TimeoutError:
                return [await self._timed_out(timeout)]
        # Tasks start in the order created and aiormq's channel lock is fair: they leave in order.
        last = len(messages) - 1
        tasks = [
            asyncio.create_task(self._publish_one(underlay, exchange, m, drain=i == last))
            for i, m in enumerate(messages)
        ]
        try:
            done, late = await asyncio.wait(tasks, timeout=timeout)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        if not late:
            return [task.result() for task in tasks]
        for task in late:
            task.cancel()
        await asyncio.wait(late)
        error = await self._timed_out(timeout)
        return [task.result() if task in done else error for task in tasks]

    async def _timed_out(self, timeout: float) -> BusError:
        # Confirms that never came: whatever holds them up, start afresh on a new connection.
        # Publishing only: consumers have a connection of their own.
        log.warning("publish not confirmed within %s s: reconnecting the publisher", timeout)
        await self._drop()
        return BusError(f"publish not confirmed within {timeout} s")

    async def _publish_one(
        self,
        channel: aiormq.Channel,
        exchange: str,
        message: OutgoingMessage,
        drain: bool = True,
    ) -> BaseException | None:
        key = message.message_id
        while (earlier := self._in_flight.get(key)) is not None:
            if earlier.exchange == exchange and earlier.message == message:
                return await asyncio.shield(earlier.outcome)
            await asyncio.wait({earlier.outcome})
        mine = _Flight(exchange, message, asyncio.get_running_loop().create_future())
        self._in_flight[key] = mine
        # What a publish joining this one learns if this one is cancelled before an outcome.
        outcome: BaseException | None = BusError("publish not confirmed: cancelled")
        try:
            outcome = await _send(channel, exchange, message, drain)
        finally:
            if self._in_flight.get(key) is mine:
                del self._in_flight[key]
            mine.outcome.set_result(outcome)
        return outcome


@dataclass(frozen=True)
class _Flight:
    """A publish on its way: what it sends, and its outcome once the broker answered."""

    exchange: str
    message: OutgoingMessage
    outcome: asyncio.Future[BaseException | None]


async def _send(
    channel: aiormq.Channel, exchange: str, message: OutgoingMessage, drain: bool
) -> BaseException | None:
    """One publish, mandatory, with the broker's outcome (see the module docstring).

    ``drain``: wait for the socket's buffer to drain before waiting for the confirm. A batch's
    last message does (the writer writes in order, so the whole batch is out then); the others
    spare a future and a drain each."""
    try:
        # aiormq directly: aio-pika's Exchange and Message wrappers only add CPU here.
        await channel.basic_publish(
            message.body,
            exchange=exchange,
            routing_key=message.routing_key,
            properties=_properties(message),
            mandatory=True,
            wait=drain,
        )
    except aiormq.exceptions.PublishError as exc:
        frame = exc.frame
        text = f"{getattr(frame, 'reply_code', '')} {getattr(frame, 'reply_text', '')}"
        return UnroutableError(f"the broker returned the message: {text.strip()}")
    except aiormq.exceptions.DeliveryError:
        # RabbitMQ nacks what a full queue (x-overflow reject-publish) would not take.
        return BrokerBusy("the broker refused the message (a queue is full?)")
    except asyncio.CancelledError:
        # aiormq cancels its waiters when the connection goes: only a cancellation of
        # this task itself (the batch's deadline) is one.
        raise_if_cancelling()
        return BusError("publish failed: the broker connection was lost")
    except connection_errors() as exc:
        raise_if_cancelling()
        return BusError(f"publish failed: {type(exc).__name__}: {exc}")
    return None


def _properties(message: OutgoingMessage) -> aiormq.spec.Basic.Properties:
    """A persistent JSON message; ``message_id`` carries twoway's idempotency."""
    return aiormq.spec.Basic.Properties(
        message_id=message.message_id,
        content_type="application/json",
        delivery_mode=2,
        headers=dict(message.headers) if message.headers else None,
    )
