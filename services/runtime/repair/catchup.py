"""Missed-webhook catch-up: the provider's event log, read back since the last event seen.

At start and every ``interval_s`` (``TWOWAY_CATCHUP_INTERVAL``): the events after the cursor,
oldest first, page by page, are published as inbound commands on ``twoway.commands`` exactly as
the webhook gateway would publish them (same normalizer, same message ids), so the inbound
consumer applies each once: an event that did arrive as a webhook is a duplicate in the inbox.
The cursor (the newest event read, in ``repair_cursors``) moves only once a page's commands are
confirmed by the broker.

The first pass starts from the provider's newest event: what happened before twoway ran is
reconcile's business. A provider keeps its events for a while only (Stripe: 30 days): a cursor
older than that has lost events (``twoway_catchup_gaps_total``); the job starts again from the
newest event and says to run reconcile. ``twoway_catchup_reached_back_seconds`` shows how far
back each pass had to read.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from services.runtime.bus import Bus, OutgoingMessage
from services.runtime.errors import Retryable
from services.runtime.metrics import (
    CATCHUP_COMMANDS,
    CATCHUP_GAPS,
    CATCHUP_POSITION,
    CATCHUP_REACHED_BACK,
)
from services.runtime.repair import cursors
from services.runtime.repair.retry import patiently
from services.runtime.repair.source import Command, CursorExpired, EventSource
from shared.commands import command_routing_key, dump_command
from shared.topology import COMMANDS_EXCHANGE

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[Command]], Awaitable[None]]
PUBLISH_TIMEOUT_S = 10.0


def publisher(bus: Bus) -> Publish:
    """Hand commands to the inbound consumer as the gateway does; raise unless all confirmed."""

    async def publish(commands: Sequence[Command]) -> None:
        messages = [
            OutgoingMessage(command_routing_key(c), dump_command(c), c.message_id) for c in commands
        ]
        results = await bus.publish(COMMANDS_EXCHANGE, messages, timeout=PUBLISH_TIMEOUT_S)
        failed = [r for r in results if r is not None]
        if failed:
            raise Retryable(f"{len(failed)} commands not confirmed: {failed[0]}")

    return publish


class CatchUp:
    def __init__(self, events: EventSource, publish: Publish, interval_s: float) -> None:
        self.events = events
        self.publish = publish
        self.interval_s = interval_s
        self.name = f"{events.provider.value}:events"
        self.provider = events.provider.value

    async def run(self) -> None:
        """Forever: a pass now, then one every ``interval_s``."""
        while True:
            try:
                await self.once()
            except Exception:
                log.exception("catch-up pass failed", extra={"job": self.name})
            await asyncio.sleep(self.interval_s)

    async def once(self) -> int:
        """One pass; how many commands it handed on."""
        state = await cursors.load(self.name)
        if state is None or state.cursor is None:
            await self._start_from_newest()
            return 0
        cursor, cursor_at = state.cursor, state.cursor_at
        now = datetime.now(UTC)
        if cursor_at is not None:
            behind = max(0.0, (now - cursor_at).total_seconds())  # the provider's clock may lead
            CATCHUP_REACHED_BACK.labels(self.provider).set(behind)
            if now - cursor_at > self.events.retention:
                return await self._gap(cursor, "older than the provider keeps events")
        handed = 0
        while True:
            try:
                page = await patiently(functools.partial(self.events.since, cursor), self.name)
            except CursorExpired as exc:
                return await self._gap(cursor, str(exc))
            if page.commands:
                await self.publish(page.commands)
                handed += len(page.commands)
                CATCHUP_COMMANDS.labels(self.provider).inc(len(page.commands))
            if page.cursor is not None:
                cursor, cursor_at = page.cursor, page.cursor_at
                await cursors.save(self.name, cursor, cursor_at)
            if cursor_at is not None:
                CATCHUP_POSITION.labels(self.provider).set(cursor_at.timestamp())
            if not page.more:
                break
        log.info("catch-up pass", extra={"job": self.name, "commands": handed})
        return handed

    async def _start_from_newest(self) -> None:
        newest = await patiently(self.events.newest, self.name)
        if newest is not None:
            await cursors.save(self.name, newest[0], newest[1])
            CATCHUP_POSITION.labels(self.provider).set(newest[1].timestamp())
        log.info("catch-up starts from the newest event", extra={"job": self.name})

    async def _gap(self, cursor: str, why: str) -> int:
        CATCHUP_GAPS.labels(self.provider).inc()
        log.error(
            "catch-up lost events: run `twoway reconcile` to heal what they changed",
            extra={"job": self.name, "cursor": cursor, "reason": why},
        )
        await self._start_from_newest()
        return 0
