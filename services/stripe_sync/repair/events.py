"""``StripeEvents``: the ``EventSource`` of Stripe, its Events API.

Stripe lists events newest first and keeps them 30 days. ``ending_before=<id>`` returns the
(up to 100) events just newer than ``<id>``, still newest first: each page is turned around, so
events are handed on oldest first, and the newest one of the page is the next cursor. Only the
types twoway handles are asked for (``types[]``). A cursor Stripe no longer knows (``404``)
has fallen out of the 30 days.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from services.runtime.errors import Permanent
from services.runtime.repair.source import Command, CursorExpired, EventPage
from services.stripe_sync.names import STRIPE
from services.stripe_sync.normalize import HANDLED_TYPES, MalformedObject, commands_of
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.errors import is_missing
from services.stripe_sync.stripe.reads import list_page

log = logging.getLogger(__name__)

PAGE_SIZE = 100
RETENTION = timedelta(days=30)
TYPES = sorted(HANDLED_TYPES)


class StripeEvents:
    provider = STRIPE
    retention = RETENTION

    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    async def newest(self) -> tuple[str, datetime] | None:
        params = {"limit": 1, "types": TYPES}
        listing = await list_page(
            self.call,
            "events.list",
            lambda: self.client.v1.events.list_async(params=params),  # type: ignore[arg-type]
        )
        if not listing.data:
            return None
        event = listing.data[0]
        return str(event["id"]), datetime.fromtimestamp(int(event["created"]), UTC)

    async def since(self, cursor: str) -> EventPage:
        params = {"limit": PAGE_SIZE, "types": TYPES, "ending_before": cursor}
        try:
            listing = await list_page(
                self.call,
                "events.list",
                lambda: self.client.v1.events.list_async(params=params),  # type: ignore[arg-type]
            )
        except Permanent as exc:
            # Caller raised Stripe's error in the runtime's taxonomy, Stripe's own as the cause.
            cause = exc.__cause__
            if isinstance(cause, stripe.StripeError) and is_missing(cause):
                raise CursorExpired(f"Stripe no longer has event {cursor}") from exc
            raise
        events = list(reversed(listing.data))  # oldest first
        commands: list[Command] = []
        for event in events:
            commands.extend(_commands(event))
        if not events:
            return EventPage([], None, None, False)
        newest = events[-1]
        return EventPage(
            commands,
            str(newest["id"]),
            datetime.fromtimestamp(int(newest["created"]), UTC),
            listing.has_more,
        )


def _commands(event: dict[str, Any]) -> list[Command]:
    try:
        if not isinstance(event.get("created"), int) or not isinstance(event.get("id"), str):
            raise MalformedObject("an event without id or created")
        return list(commands_of(event))
    except MalformedObject as exc:
        # The gateway answers such a delivery 400; here there is nobody to answer: logged.
        log.error("event skipped", extra={"provider_event_id": event.get("id"), "error": str(exc)})
        return []
