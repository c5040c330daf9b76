"""Consuming with manual acks: the one place that maps a handler's outcome to an action.

| outcome                       | action                                                   |
|-------------------------------|----------------------------------------------------------|
| handler returned              | ack                                                      |
| Retryable / unexpected error  | publish to the next retry tier's wait queue, then ack;   |
|                               | after the last tier: dead-letter (``retries_exhausted``) |
| Permanent                     | dead-letter at once with its reason, then ack            |
| process dies / channel closes | nothing acked: the broker redelivers                     |

A retry or dead letter is published with a confirm *before* the original is acked, so a crash
between the two duplicates a message but never loses one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.runtime.bus import Bus, BusError, Delivery, Handler, OutgoingMessage
from services.runtime.cancel import raise_if_cancelling
from services.runtime.errors import Permanent, Retryable
from services.runtime.metrics import MESSAGES_CONSUMED, MESSAGES_SETTLED
from shared.topology import (
    HEADER_ATTEMPTS,
    HEADER_LAST_ERROR,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    HEADER_SOURCE_QUEUE,
    WorkQueue,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class RetryLater:
    queue: str
    attempts: int
    error: str


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    attempts: int
    error: str


Settlement = Ack | RetryLater | DeadLetter
"""What becomes of a delivered message (the action the policy maps an outcome to)."""
DeadLetterHook = Callable[[Delivery, DeadLetter], Awaitable[None]]
"""Called when the policy dead-letters a message, before it is handed on and acked."""


def attempts_of(delivery: Delivery) -> int:
    raw = delivery.headers.get(HEADER_ATTEMPTS, 0)
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return 0


def decide(
    error: BaseException | None, attempts: int, queue: WorkQueue, delays_ms: Sequence[int]
) -> Settlement:
    """The ack policy: what to do with a message given how its handling ended."""
    if error is None:
        return Ack()
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    if isinstance(error, Permanent):
        return DeadLetter(error.reason, attempts + 1, text)
    if attempts >= len(delays_ms):
        return DeadLetter("retries_exhausted", attempts + 1, text)
    tier = attempts
    wanted = error.retry_after if isinstance(error, Retryable) else None
    if wanted is not None:
        # Honour Retry-After: the first tier at least that long (never shorter than due).
        while tier < len(delays_ms) - 1 and delays_ms[tier] < wanted * 1000:
            tier += 1
    return RetryLater(queue.retry_queue(delays_ms[tier]), attempts + 1, text)


class Worker:
    """Runs one handler over one work queue, reconnecting until stopped."""

    def __init__(
        self,
        bus: Bus,
        queue: WorkQueue,
        handler: Handler,
        delays_ms: Sequence[int],
        prefetch: int = 100,
        on_action: Callable[[Settlement], None] | None = None,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        self.bus = bus
        self.queue = queue
        self.handler = handler
        self.delays_ms = tuple(delays_ms)
        self.prefetch = prefetch
        self.on_action = on_action
        self.on_dead_letter = on_dead_letter

    async def handle(self, delivery: Delivery) -> None:
        MESSAGES_CONSUMED.labels(self.queue.name).inc()
        error: BaseException | None = None
        try:
            await self.handler(delivery)
        except asyncio.CancelledError:
            raise  # shutting down: leave it unacked, the broker redelivers it
        except Exception as exc:
            raise_if_cancelling()  # stopping mid-handler: leave it unacked, as above
            error = exc
            if not isinstance(exc, Retryable | Permanent):
                log.exception("unexpected error handling %s", delivery.message_id)
        action = decide(error, attempts_of(delivery), self.queue, self.delays_ms)
        try:
            if isinstance(action, DeadLetter) and self.on_dead_letter is not None:
                # Before the message leaves: a hook that cannot do its part (say, report the
                # failure) leaves it unacked, and the redelivery comes to the same decision.
                await self.on_dead_letter(delivery, action)
            await self._apply(delivery, action)
        except Exception as exc:  # noqa: BLE001 - nothing settled: redelivered, never lost
            raise_if_cancelling()
            # Neither acked nor handed on: the message is redelivered after reconnecting.
            log.warning("could not settle message %s: %s", delivery.message_id, exc)
            return
        reason = action.reason if isinstance(action, DeadLetter) else ""
        MESSAGES_SETTLED.labels(self.queue.name, type(action).__name__, reason).inc()
        if self.on_action is not None:
            self.on_action(action)

    async def _apply(self, delivery: Delivery, action: Settlement) -> None:
        if isinstance(action, RetryLater):
            await self._hand_on(
                delivery,
                action.queue,
                {HEADER_ATTEMPTS: action.attempts, HEADER_LAST_ERROR: action.error},
            )
            log.info(
                "retry later",
                extra={
                    "event_id": delivery.message_id,
                    "queue": action.queue,
                    "attempts": action.attempts,
                },
            )
        elif isinstance(action, DeadLetter):
            await self._hand_on(
                delivery,
                self.queue.dead_letter,
                {
                    HEADER_ATTEMPTS: action.attempts,
                    HEADER_REASON: action.reason,
                    HEADER_LAST_ERROR: action.error,
                    HEADER_SOURCE_QUEUE: self.queue.name,
                },
            )
            log.warning(
                "dead-lettered",
                extra={
                    "event_id": delivery.message_id,
                    "reason": action.reason,
                    "error": action.error,
                },
            )
        await delivery.ack()

    async def _hand_on(self, delivery: Delivery, queue: str, headers: dict[str, object]) -> None:
        message = OutgoingMessage(
            routing_key=queue,
            body=delivery.body,
            message_id=delivery.message_id,
            headers={
                HEADER_ROUTING_KEY: delivery.headers.get(HEADER_ROUTING_KEY, delivery.routing_key),
                **delivery.headers,
                **headers,
            },
        )
        (result,) = await self.bus.publish("", [message])
        if result is not None:
            raise BusError(str(result))

    async def run(self) -> None:
        """Consume until cancelled; reconnect with growing pauses when the broker goes away."""
        loop = asyncio.get_running_loop()
        pause = 0.2
        while True:
            started = loop.time()
            try:
                await self.bus.consume(self.queue, self.handle, self.prefetch)
            except BusError as exc:
                raise_if_cancelling()
                log.warning("consumer of %s lost the broker: %s", self.queue.name, exc)
            if loop.time() - started > 30:
                pause = 0.2  # it had been running fine: start the backoff over
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
