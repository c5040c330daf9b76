"""One Stripe resource (``customers``, ``products``) as twoway writes it: create whole, update
path by path, delete. The mapping of a kind's fields is generic: Stripe's parameters carry the
kind's synced fields under the same names, and its metadata map the local id as well."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from pydantic import JsonValue

from services.runtime.outbound.resource import Resource
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.errors import is_missing
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.entities import EntityData
from shared.fields import split

MAP_FIELD = "metadata"


def create_params(data: EntityData) -> dict[str, Any]:
    """The whole snapshot (unset fields left out); the local id rides along in the metadata."""
    params: dict[str, Any] = {}
    for name in data.synced_fields:
        value = getattr(data, name)
        if value is not None:
            params[name] = dict(value) if isinstance(value, Mapping) else value
    params[MAP_FIELD] = {**params.get(MAP_FIELD, {}), LOCAL_ID_METADATA_KEY: data.id}
    return params


def update_params(local_id: str, values: Mapping[str, JsonValue]) -> dict[str, Any]:
    """Only the given paths; at Stripe an empty string unsets a field or a metadata key.

    The local id is set again, so that an object first made in Stripe carries it too."""
    params: dict[str, Any] = {MAP_FIELD: {LOCAL_ID_METADATA_KEY: local_id}}
    for path, value in values.items():
        name, key = split(path)
        wire = "" if value is None else value
        if key is None:
            params[name] = wire
        else:
            params.setdefault(name, {})[key] = wire
    return params


class StripeResource(Resource):
    """Writes of one resource, every request through the ``Caller`` (budget, metrics, errors)."""

    name = ""
    """The SDK's service and the metrics' prefix: ``customers`` for ``client.v1.customers``."""

    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    @property
    def service(self) -> Any:
        return getattr(self.client.v1, self.name)

    async def create(self, data: EntityData, key: str) -> str:
        params = create_params(data)
        created = await self.call(
            f"{self.name}.create",
            lambda: self.service.create_async(params=params, options={"idempotency_key": key}),
        )
        return str(created.id)

    async def update(
        self, external_id: str, local_id: str, values: Mapping[str, JsonValue], key: str
    ) -> None:
        await self.post_update(external_id, update_params(local_id, values), key)

    async def post_update(self, external_id: str, params: dict[str, Any], key: str) -> None:
        await self.call(
            f"{self.name}.update",
            lambda: self.service.update_async(
                external_id, params=params, options={"idempotency_key": key}
            ),
        )

    async def delete(self, external_id: str, key: str) -> str | None:
        """Delete; an object already gone at Stripe counts as deleted. Returns a note for the
        sync status when Stripe kept the object in some other form."""

        async def request() -> bool:
            await self.service.delete_async(external_id)
            return True

        await self.call(
            f"{self.name}.delete", request, accept=lambda exc: True if is_missing(exc) else None
        )
        return None
