"""``StripeObjects``: the ``ObjectSource`` of Stripe: any registered kind's objects, page by page
(100 per page, ``starting_after``; newest first at Stripe, oldest first in localstripe: the
cursor works either way), read the way webhooks are (``services.stripe_sync.normalize``)."""

from __future__ import annotations

import logging
from typing import Any

import stripe

from services.runtime.repair.source import Observed, Page
from services.stripe_sync.names import STRIPE
from services.stripe_sync.normalize import MalformedObject, object_name, observed
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.reads import list_page
from shared.entities import KINDS
from shared.kinds import EntityKind

log = logging.getLogger(__name__)

PAGE_SIZE = 100


class StripeObjects:
    provider = STRIPE

    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    async def page(self, kind: EntityKind, after: str | None) -> Page:
        name = object_name(kind)
        service: Any = getattr(self.client.v1, f"{name}s")
        params: dict[str, object] = {"limit": PAGE_SIZE}
        if after is not None:
            params["starting_after"] = after
        listing = await list_page(
            self.call, f"{name}s.list", lambda: service.list_async(params=params)
        )
        match = KINDS[kind].state.match_fields
        items: list[Observed] = []
        for obj in listing.data:
            try:
                command = observed(
                    kind, obj, f"list:{obj.get('id')}", "list", listing.at, listing.resolution_s
                )
            except MalformedObject as exc:
                log.warning(
                    f"{name} skipped", extra={"external_id": obj.get("id"), "error": str(exc)}
                )
                continue
            keys = {f: str(command.data[f]) for f in match if command.data.get(f)}
            items.append(Observed(command, keys))
        last = listing.data[-1]["id"] if listing.data else None
        return Page(items, last if listing.has_more else None)
