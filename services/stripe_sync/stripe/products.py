"""Products at Stripe (``/v1/products``).

Stripe refuses to delete a product that has prices ("This product cannot be deleted because it
has one or more user-created prices", a 400): such a product is archived instead
(``active=false``), and the sync status says so. Not an error: nothing to dead-letter.
"""

from __future__ import annotations

import stripe

from services.stripe_sync.stripe.errors import is_missing
from services.stripe_sync.stripe.resource import StripeResource
from shared.kinds import EntityKind

ARCHIVED = "archived at Stripe instead of deleted: it has prices, which Stripe keeps"


def has_prices(exc: stripe.StripeError) -> bool:
    message = (exc.user_message or str(exc)).lower()
    return exc.http_status == 400 and "cannot be deleted" in message and "price" in message


class StripeProducts(StripeResource):
    name = "products"
    kind = EntityKind.PRODUCT

    async def delete(self, external_id: str, key: str) -> str | None:
        async def request() -> str:
            await self.service.delete_async(external_id)
            return "deleted"

        def accept(exc: stripe.StripeError) -> str | None:
            if has_prices(exc):
                return "has_prices"
            return "deleted" if is_missing(exc) else None  # already gone counts as deleted

        if await self.call("products.delete", request, accept=accept) != "has_prices":
            return None
        await self.post_update(external_id, {"active": False}, f"{key}-archive")
        return ARCHIVED
