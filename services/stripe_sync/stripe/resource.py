"""One Stripe resource (``customers``, ``products``) as twoway writes it: create whole, update
path by path, delete. The mapping of a kind's fields is generic: Stripe's parameters carry the
kind's synced fields under the same names, and its metadata map the local id as well.

Before a create, two reads keep it from making a second object:
- ``find_own``: an earlier create whose answer was lost may have made the object; Stripe
  replays a create under the same idempotency key for 24 hours, but the event may come back
  later than that. The object carries the local id in its metadata, so it is found by Search
  (``metadata['twoway_id']:'<id>'``) and by the listing by match key (a customer's email),
  filtered on that metadata. Search results can lag writes by up to a minute (Stripe's
  documentation): within that minute the idempotency key still holds, so between them no
  window is left, except for an object whose metadata or email were changed at Stripe before
  the event came back.
- ``find_matches``: the objects with the entity's match key (customers: the email), listed
  by that key, for adopting one instead of creating (``services.runtime.outbound.adoption``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import stripe
from pydantic import JsonValue

from services.runtime.outbound.resource import Resource
from services.runtime.repair.source import Observed
from services.stripe_sync.normalize import MalformedObject, observed
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.errors import is_missing
from services.stripe_sync.stripe.reads import list_page
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.entities import KINDS, EntityData
from shared.fields import split
from shared.kinds import EntityKind

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
    kind: EntityKind
    # Stripe keeps an idempotency key for at least 24 hours; an hour's margin.
    replay_window = timedelta(hours=23)

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

    async def find_own(self, local_id: str, data: EntityData) -> str | None:
        query = f"metadata['{LOCAL_ID_METADATA_KEY}']:'{local_id}'"

        async def search() -> list[dict[str, Any]]:
            found = await self.service.search_async(params={"query": query, "limit": 10})
            return [item.to_dict() for item in found.data]

        # A server without Search (an old API version, a local fake) answers 404: the listing
        # by match key below still finds it.
        objects = await self.call(
            f"{self.name}.search", search, accept=lambda exc: [] if exc.http_status == 404 else None
        )
        ids = [str(o["id"]) for o in objects]
        ids += [m.external_id for m in await self.find_matches(data) if m.local_id == local_id]
        return min(ids) if ids else None

    async def find_matches(self, data: EntityData) -> list[Observed]:
        match = KINDS[self.kind].state.match_fields
        params: dict[str, Any] = {
            f: getattr(data, f) for f in match if getattr(data, f, None) is not None
        }
        if not params:
            return []
        listing = await list_page(
            self.call,
            f"{self.name}.list",
            lambda: self.service.list_async(params={**params, "limit": 100}),
            lane="live",
        )
        found = []
        for obj in listing.data:
            try:
                command = observed(
                    self.kind,
                    obj,
                    f"list:{obj.get('id')}",
                    "list",
                    listing.at,
                    listing.resolution_s,
                )
            except MalformedObject:
                continue
            found.append(Observed(command, {f: str(v) for f, v in params.items()}))
        return found
