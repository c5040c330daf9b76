"""A lean confirmed publisher: one AMQP connection, one channel in confirm mode, publish only.

aio-pika (on aiormq) declares the topology and consumes; publishing is the one hot path, and
there aiormq spends more CPU per message than a webhook's verification and normalization
together: a lock, a writer task fed through a queue, a drain per message, a timeout context
and a socket write each. This publisher instead:

- encodes a publish in one go and writes everything published in one event-loop turn with a
  single socket write;
- resolves each message's future from the broker's ``basic.ack`` / ``basic.nack`` (acks with
  ``multiple`` settle a whole run of them), so a caller awaits exactly the broker's confirm;
- reports an unroutable mandatory message (``basic.return`` before its ack) as such;
- keeps the connection alive with heartbeats and gives up on a broker that went silent;
- while the broker blocks publishers (``connection.blocked``: a memory or disk alarm), settles
  new publishes at once with ``BrokerBusy`` instead of letting them wait out their deadline.

Every failure (connection lost, channel or connection closed by the broker) settles every
unconfirmed message with an error and leaves the publisher closed; the owner opens a new one.
Futures are settled with ``None`` (confirmed) or the exception, never raised into.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Mapping
from typing import Any

from pamqp import commands
from pamqp.common import FieldTable

from services.runtime.amqp_frames import (
    FRAME_BODY,
    FRAME_HEADER,
    FRAME_HEARTBEAT,
    FRAME_METHOD,
    HEARTBEAT_FRAME,
    PROTOCOL_HEADER,
    decode,
    encode,
    encode_publish,
    next_frame,
    parse_ack,
)
from services.runtime.amqp_url import Endpoint
from services.runtime.bus import BrokerBusy, BusError, UnroutableError

log = logging.getLogger(__name__)

CHANNEL = 1
CLIENT_FRAME_MAX = 131072
CLOSE_TIMEOUT_S = 2.0
CLIENT_PROPERTIES: FieldTable = {
    "product": "twoway",
    "capabilities": {
        "publisher_confirms": True,
        "basic.nack": True,
        "connection.blocked": True,
    },
}

Outcome = asyncio.Future[BaseException | None]


class _Pending:
    __slots__ = ("future", "message_id", "returned")

    def __init__(self, future: Outcome, message_id: str) -> None:
        self.future = future
        self.message_id = message_id
        self.returned: str | None = None


class ConfirmPublisher(asyncio.Protocol):
    """Open with ``await ConfirmPublisher.open(endpoint, timeout)``; then ``publish``."""

    def __init__(self, endpoint: Endpoint, loop: asyncio.AbstractEventLoop) -> None:
        self._endpoint = endpoint
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._inbox = bytearray()
        self._outbox: list[bytes] = []
        self._flush_scheduled = False
        self._ready: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()
        self._error: BusError | None = None
        self._frame_max = CLIENT_FRAME_MAX
        self._heartbeat_s = 0
        self._heartbeat: asyncio.TimerHandle | None = None
        self._last_received = loop.time()
        self._sent_since_beat = False
        self._tag = 0
        self._pending: dict[int, _Pending] = {}
        self._returning: tuple[str, int] | None = None  # reply text and code of a return
        self._blocked: str | None = None  # why the broker blocks publishing, while it does

    # -- life cycle ------------------------------------------------------------------------

    @classmethod
    async def open(cls, endpoint: Endpoint, timeout: float) -> ConfirmPublisher:
        loop = asyncio.get_running_loop()
        publisher = cls(endpoint, loop)
        context = ssl.create_default_context() if endpoint.tls else None
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(
                    lambda: publisher, endpoint.host, endpoint.port, ssl=context
                )
                await publisher._ready
        except (OSError, TimeoutError) as exc:
            error = BusError(f"cannot connect to the broker: {type(exc).__name__}")
            publisher.abort(error)
            raise error from exc
        except BaseException:
            # A BusError from the handshake, or the opener was cancelled: leave no socket.
            publisher.abort(BusError("the connection was not set up"))
            raise
        return publisher

    @property
    def is_open(self) -> bool:
        return self._ready.done() and self._error is None

    @property
    def blocked(self) -> str | None:
        """Why the broker blocks publishing (a resource alarm), or None."""
        return self._blocked

    async def close(self) -> None:
        """Close politely (unconfirmed messages fail), waiting briefly for the broker."""
        if self._transport is None or self._error is not None:
            self.abort(BusError("the publisher is closed"))
            return
        self._send(encode(0, commands.Connection.Close(200, "bye", 0, 0)))
        self._fail_all(BusError("the publisher is closed"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._closed), CLOSE_TIMEOUT_S)
        self.abort(BusError("the publisher is closed"))

    def abort(self, error: BusError) -> None:
        """Drop the connection now; every unconfirmed message fails with ``error``."""
        if self._error is None:
            self._error = error
        self._fail_all(self._error)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if not self._ready.done():
            self._ready.set_exception(self._error)
            self._ready.exception()  # retrieved here: the opener re-raises its own error
        if self._transport is not None:
            self._transport.abort()

    # -- publishing ------------------------------------------------------------------------

    def publish(
        self, exchange: str, routing_key: str, body: bytes, properties: Mapping[str, Any]
    ) -> Outcome:
        """Send one mandatory message; its future settles with None once the broker confirms."""
        future: Outcome = self._loop.create_future()
        if self._error is not None or not self._ready.done():
            future.set_result(self._error or BusError("the publisher is not open"))
            return future
        if self._blocked is not None:
            # The broker would not read it until the alarm clears: say so now, not at the
            # caller's deadline.
            future.set_result(BrokerBusy(f"the broker blocks publishing: {self._blocked}"))
            return future
        frames = encode_publish(CHANNEL, exchange, routing_key, body, properties, self._frame_max)
        self._tag += 1
        self._pending[self._tag] = _Pending(future, str(properties.get("message_id") or ""))
        self._send(frames)
        return future

    def _send(self, data: bytes) -> None:
        self._outbox.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data, self._outbox = self._outbox, []
        if self._transport is not None and not self._transport.is_closing() and data:
            self._transport.write(b"".join(data))
            self._sent_since_beat = True

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(PROTOCOL_HEADER)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        reason = f": {exc}" if exc else ""
        self.abort(BusError(f"the broker connection was lost{reason}"))
        if not self._closed.done():
            self._closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._last_received = self._loop.time()
        inbox = self._inbox
        inbox += data
        offset = 0
        try:
            while (found := next_frame(inbox, offset)) is not None:
                kind, channel, end = found
                payload = bytes(inbox[offset + 7 : end - 1])
                offset = end
                self._on_frame(kind, channel, payload)
        except Exception as exc:
            log.warning("unreadable frame from the broker", exc_info=True)
            self.abort(BusError(f"unreadable frame from the broker: {exc}"))
            return
        del inbox[:offset]

    # -- incoming frames -------------------------------------------------------------------

    def _on_frame(self, kind: int, channel: int, payload: bytes) -> None:
        if kind == FRAME_METHOD:
            ack = parse_ack(payload)
            if ack is not None:
                self._settle(*ack, None)
            else:
                self._on_method(channel, decode(kind, payload))
        elif kind == FRAME_HEADER and self._returning is not None:
            self._on_returned(decode(kind, payload))
        elif kind not in (FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT):
            raise ValueError(f"unexpected frame type {kind}")

    def _on_method(self, channel: int, method: Any) -> None:
        if isinstance(method, commands.Basic.Nack):
            # RabbitMQ nacks what a full queue (x-overflow reject-publish) would not take.
            refused = BrokerBusy("the broker refused the message (a queue is full?)")
            self._settle(method.delivery_tag, method.multiple, refused)
        elif isinstance(method, commands.Basic.Return):
            self._returning = (method.reply_text, method.reply_code or 0)
        elif isinstance(method, commands.Connection.Blocked):
            self._blocked = method.reason or "resource alarm"
            log.warning("the broker blocks publishing", extra={"reason": self._blocked})
        elif isinstance(method, commands.Connection.Unblocked):
            self._blocked = None
            log.info("the broker takes messages again")
        elif isinstance(method, commands.Connection.Start):
            self._on_start(method)
        elif isinstance(method, commands.Connection.Tune):
            self._on_tune(method)
        elif isinstance(method, commands.Connection.OpenOk):
            self._send(encode(CHANNEL, commands.Channel.Open()))
        elif isinstance(method, commands.Channel.OpenOk):
            self._send(encode(CHANNEL, commands.Confirm.Select()))
        elif isinstance(method, commands.Confirm.SelectOk):
            if not self._ready.done():
                self._ready.set_result(None)
        elif isinstance(method, commands.Channel.Close):
            self._send(encode(channel, commands.Channel.CloseOk()))
            self._flush()
            self.abort(BusError(f"the broker closed the channel: {method.reply_text}"))
        elif isinstance(method, commands.Connection.Close):
            self._send(encode(0, commands.Connection.CloseOk()))
            self._flush()
            self.abort(BusError(f"the broker closed the connection: {method.reply_text}"))
        elif isinstance(method, commands.Connection.CloseOk):
            if self._transport is not None:
                self._transport.close()
        else:
            log.debug("ignored AMQP method %s", method.name)

    def _on_start(self, start: commands.Connection.Start) -> None:
        if b"PLAIN" not in start.mechanisms.encode().split():
            raise ValueError(f"the broker offers no PLAIN login: {start.mechanisms}")
        endpoint = self._endpoint
        login = f"\0{endpoint.username}\0{endpoint.password}"
        self._send(
            encode(
                0,
                commands.Connection.StartOk(
                    client_properties=CLIENT_PROPERTIES, mechanism="PLAIN", response=login
                ),
            )
        )

    def _on_tune(self, tune: commands.Connection.Tune) -> None:
        wanted = self._endpoint.heartbeat_s
        self._heartbeat_s = min(wanted, tune.heartbeat) if tune.heartbeat else wanted
        self._frame_max = min(CLIENT_FRAME_MAX, tune.frame_max or CLIENT_FRAME_MAX)
        self._send(
            encode(
                0,
                commands.Connection.TuneOk(
                    channel_max=tune.channel_max,
                    frame_max=self._frame_max,
                    heartbeat=self._heartbeat_s,
                ),
            )
        )
        self._send(encode(0, commands.Connection.Open(virtual_host=self._endpoint.virtual_host)))
        if self._heartbeat_s:
            self._schedule_heartbeat()

    def _on_returned(self, content: Any) -> None:
        reply_text, reply_code = self._returning or ("", 0)
        self._returning = None
        message_id = str(content.properties.message_id or "")
        for pending in self._pending.values():
            if pending.message_id == message_id and pending.returned is None:
                pending.returned = f"{reply_code} {reply_text}"
                return

    def _settle(self, tag: int, multiple: bool, error: BusError | None) -> None:
        pending = self._pending
        if not multiple:
            entry = pending.pop(tag, None)
            if entry is not None:
                self._resolve(entry, error)
            return
        while pending:
            first = next(iter(pending))
            if first > tag:
                break
            self._resolve(pending.pop(first), error)

    @staticmethod
    def _resolve(entry: _Pending, error: BusError | None) -> None:
        if entry.future.done():
            return
        if error is None and entry.returned is not None:
            error = UnroutableError(f"the broker returned the message: {entry.returned}")
        entry.future.set_result(error)

    def _fail_all(self, error: BusError) -> None:
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_result(error)

    # -- heartbeats ------------------------------------------------------------------------

    def _schedule_heartbeat(self) -> None:
        self._heartbeat = self._loop.call_later(self._heartbeat_s / 2, self._beat)

    def _beat(self) -> None:
        if self._error is not None:
            return
        if self._loop.time() - self._last_received > 2 * self._heartbeat_s:
            self.abort(BusError("the broker went silent (no heartbeat)"))
            return
        if not self._sent_since_beat:
            self._send(HEARTBEAT_FRAME)
        self._sent_since_beat = False
        self._schedule_heartbeat()
