"""One listing request in the bulk lane, and when Stripe's state in its answer held.

The answer's ``Date`` header is Stripe's own clock (whole seconds), so the state read is pinned
to Stripe's time, like its events' ``created``, whatever this host's clock says: it held at some
moment within ``[Date - round trip, Date + 1 s]``. Without the header, this host's clock.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import stripe

from services.runtime.budget import Lane
from services.stripe_sync.stripe.calls import Caller


@dataclass(frozen=True)
class Listing:
    data: list[dict[str, Any]]
    has_more: bool
    at: datetime
    resolution_s: float


async def list_page(
    call: Caller,
    operation: str,
    request: Callable[[], Awaitable[stripe.ListObject[Any]]],
    lane: Lane = "bulk",
) -> Listing:
    sent = time.monotonic()
    wall = datetime.now(UTC)
    answer = await call(operation, request, lane=lane)
    round_trip = time.monotonic() - sent
    at, resolution = wall, round_trip
    response = getattr(answer, "last_response", None)
    date = _server_date(response.headers if response is not None else {})
    if date is not None:
        at, resolution = date - timedelta(seconds=round_trip), round_trip + 1.0
    data = [item.to_dict() for item in answer.data]
    return Listing(data, bool(answer.has_more), at, resolution)


def _server_date(headers: Mapping[str, str]) -> datetime | None:
    raw = next((v for k, v in headers.items() if k.lower() == "date"), None)
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
