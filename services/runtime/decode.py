"""Turning a delivery's body into the event type a consumer expects, or a Permanent error."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from services.runtime.errors import Permanent
from shared.events import EntityEvent, SyncResultEvent, parse_event

E = TypeVar("E", EntityEvent, SyncResultEvent)


def decode_event(body: bytes, expected: type[E]) -> E:
    """The event in ``body``; a malformed or unexpected one can never succeed: Permanent."""
    try:
        event = parse_event(body)
    except ValidationError as exc:
        raise Permanent(f"not a twoway event: {exc.error_count()} errors", "malformed") from None
    if not isinstance(event, expected):
        raise Permanent(f"not a {expected.__name__}: {event.type}", "unexpected_event")
    return event
