"""Customers at Stripe, page by page (100 per page, ``starting_after``; newest first at
Stripe, oldest first in localstripe: the cursor works either way)."""

from __future__ import annotations

import logging

import stripe

from services.runtime.repair.source import Observed, Page
from services.stripe_sync.repair.reads import list_page
from services.stripe_sync.stripe.calls import Caller
from shared.kinds import EntityKind
from shared.stripe_normalize import MalformedObject, observed

log = logging.getLogger(__name__)

PAGE_SIZE = 100


async def page(client: stripe.StripeClient, call: Caller, after: str | None) -> Page:
    params: dict[str, object] = {"limit": PAGE_SIZE}
    if after is not None:
        params["starting_after"] = after
    listing = await list_page(
        call,
        "customers.list",
        lambda: client.v1.customers.list_async(params=params),  # type: ignore[arg-type]
    )
    items: list[Observed] = []
    for obj in listing.data:
        try:
            command = observed(
                EntityKind.CUSTOMER,
                obj,
                f"list:{obj.get('id')}",
                "list",
                listing.at,
                listing.resolution_s,
            )
        except MalformedObject as exc:
            log.warning("customer skipped", extra={"external_id": obj.get("id"), "error": str(exc)})
            continue
        email = command.data.get("email")
        items.append(Observed(command, {"email": str(email)} if email else {}))
    last = listing.data[-1]["id"] if listing.data else None
    return Page(items, last if listing.has_more else None)
