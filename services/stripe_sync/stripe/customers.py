"""Customers at Stripe: twoway's snapshot -> Stripe's create/update/delete parameters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import stripe

from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.errors import is_missing
from shared.events import CustomerData

LOCAL_ID_METADATA_KEY = "twoway_id"
"""Where the local id lives in the Stripe customer's metadata (inbound reads it back)."""


def metadata_of(data: CustomerData) -> dict[str, str]:
    return {**data.metadata, LOCAL_ID_METADATA_KEY: data.id}


def params_of(data: CustomerData, dropped_keys: Iterable[str] = ()) -> dict[str, Any]:
    """The full snapshot as Stripe parameters; an empty string unsets a field or a key."""
    metadata: dict[str, str] = {key: "" for key in dropped_keys}
    metadata.update(metadata_of(data))
    return {
        "name": data.name,
        "email": data.email,
        "phone": data.phone or "",
        "metadata": metadata,
    }


def _claim(customer: stripe.Customer) -> str | None:
    """The local id a Stripe customer carries, if any."""
    metadata = customer.to_dict().get("metadata") or {}
    claim = metadata.get(LOCAL_ID_METADATA_KEY)
    return str(claim) if claim is not None else None


class StripeCustomers:
    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    async def create(self, data: CustomerData, idempotency_key: str) -> str:
        params = params_of(data)
        if not data.phone:
            del params["phone"]
        customer = await self.call(
            "customers.create",
            lambda: self.client.v1.customers.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )
        return str(customer.id)

    async def update(
        self,
        external_id: str,
        data: CustomerData,
        idempotency_key: str,
        dropped_keys: Iterable[str] = (),
    ) -> None:
        params = params_of(data, dropped_keys)
        await self.call(
            "customers.update",
            lambda: self.client.v1.customers.update_async(
                external_id,
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )

    async def find(self, local_id: str, email: str) -> list[str]:
        """Ids of Stripe customers that may be ``local_id``: ours by metadata, else unclaimed
        ones with ``email``. One id is a match; none or several, the caller cannot tell."""
        page = await self.call(
            "customers.list",
            lambda: self.client.v1.customers.list_async(params={"email": email, "limit": 10}),
        )
        claims = [(c.id, _claim(c)) for c in page.data]
        ours = [cid for cid, claim in claims if claim == local_id]
        return ours or [cid for cid, claim in claims if claim is None]

    async def delete(self, external_id: str) -> None:
        """Delete; a customer already gone at Stripe counts as deleted."""

        async def request() -> bool:
            await self.client.v1.customers.delete_async(external_id)
            return True

        await self.call(
            "customers.delete", request, accept=lambda exc: True if is_missing(exc) else None
        )
