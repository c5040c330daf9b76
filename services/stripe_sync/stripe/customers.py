"""Customers at Stripe: twoway's paths -> Stripe's create/update/delete parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from pydantic import JsonValue

from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.errors import is_missing
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.events import CustomerData
from shared.fields import split


def create_params(data: CustomerData) -> dict[str, Any]:
    """The whole snapshot; the local id rides along in the metadata."""
    params: dict[str, Any] = {
        "name": data.name,
        "email": data.email,
        "metadata": {**data.metadata, LOCAL_ID_METADATA_KEY: data.id},
    }
    if data.phone:
        params["phone"] = data.phone
    return params


def update_params(local_id: str, values: Mapping[str, JsonValue]) -> dict[str, Any]:
    """Only the given paths; at Stripe an empty string unsets a field or a metadata key.

    The local id is set again, so that a customer first made in Stripe carries it too."""
    params: dict[str, Any] = {"metadata": {LOCAL_ID_METADATA_KEY: local_id}}
    for path, value in values.items():
        name, key = split(path)
        wire = "" if value is None else value
        if key is None:
            params[name] = wire
        else:
            params["metadata"][key] = wire
    return params


class StripeCustomers:
    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    async def create(self, data: CustomerData, idempotency_key: str) -> str:
        params = create_params(data)
        customer = await self.call(
            "customers.create",
            lambda: self.client.v1.customers.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )
        return str(customer.id)

    async def update(self, external_id: str, params: dict[str, Any], idempotency_key: str) -> None:
        await self.call(
            "customers.update",
            lambda: self.client.v1.customers.update_async(
                external_id,
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )

    async def delete(self, external_id: str) -> None:
        """Delete; a customer already gone at Stripe counts as deleted."""

        async def request() -> bool:
            await self.client.v1.customers.delete_async(external_id)
            return True

        await self.call(
            "customers.delete", request, accept=lambda exc: True if is_missing(exc) else None
        )
