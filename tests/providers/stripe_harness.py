"""Stripe's harness: localstripe in-process (``tests/fakes/stripe_fake``), read from its store
(no request, nothing in its log) and driven through Stripe's API as the dashboard would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from services.runtime.settings import ProviderSettings
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.entities import KINDS
from shared.fields import apply_paths, flatten, split
from shared.kinds import EntityKind
from tests.fakes.stripe_fake import API_KEY, FakeStripe
from tests.providers.harness import Flat

WEBHOOK_SECRET = "whsec_contract_suite"
OBJECTS = {EntityKind.CUSTOMER: "customer", EntityKind.PRODUCT: "product"}
"""Stripe's object for each kind: the store's key prefix and the SDK's service (plural)."""


def _unset_as_none(value: Any) -> Any:
    return None if value == "" else value


class StripeHarness:
    name = STRIPE

    def __init__(self) -> None:
        self._fake: FakeStripe | None = None
        self._own_writes = 0

    @property
    def fake(self) -> FakeStripe:
        assert self._fake is not None, "Stripe is not running (use harness.settings)"
        return self._fake

    def kinds(self) -> tuple[EntityKind, ...]:
        return (EntityKind.CUSTOMER, EntityKind.PRODUCT)

    def sample(self, kind: EntityKind, n: int) -> dict[str, Any]:
        if kind == EntityKind.CUSTOMER:
            return {"name": f"Ada Lovelace{n}", "email": f"ada{n}@example.com",
                    "phone": f"+1 555 01{n:02d}", "metadata": {"plan": f"p{n}"}}  # fmt: skip
        return {"name": f"Widget {n}", "description": f"A widget, number {n}",
                "metadata": {"batch": f"b{n}"}}  # fmt: skip

    def change(self, kind: EntityKind, n: int) -> dict[str, Any]:
        if kind == EntityKind.CUSTOMER:
            return {"name": f"Grace Hopper{n}", "phone": f"+1 555 02{n:02d}"}
        return {"name": f"Gadget {n}", "description": f"A gadget, number {n}"}

    @contextlib.asynccontextmanager
    async def settings(
        self, base: Mapping[str, Any], gateway_url: str
    ) -> AsyncIterator[ProviderSettings]:
        fake = FakeStripe()
        await fake.start()
        try:
            await fake.register_webhook(f"{gateway_url}/webhooks/stripe", WEBHOOK_SECRET)
            self._fake, self._own_writes = fake, 0
            yield StripeSettings.model_validate(
                {
                    **base,
                    "stripe_api_key": API_KEY,
                    "stripe_api_base": fake.url,
                    "stripe_webhook_secret": WEBHOOK_SECRET,
                    "stripe_timeout_s": 2.0,
                }
            )
        finally:
            self._fake = None
            await fake.stop()

    async def remote(self, kind: EntityKind, external_id: str) -> Flat | None:
        from localstripe.resources import store

        obj = store.get(f"{OBJECTS[kind]}:{external_id}")
        if obj is None or getattr(obj, "deleted", False):
            return None
        exported = obj._export()
        fields = KINDS[kind].state.synced_fields
        values = {name: _unset_as_none(exported.get(name)) for name in fields}
        if isinstance(values.get("metadata"), dict):
            values["metadata"] = {
                k: v for k, v in values["metadata"].items()
                if k != LOCAL_ID_METADATA_KEY and v != ""
            }  # fmt: skip
        return flatten(values, fields)

    async def create_remote(self, kind: EntityKind, fields: Flat, notify: bool = True) -> str:
        params = {k: v for k, v in apply_paths({}, fields).items() if v is not None}
        with self._notifying(notify):
            async with self.fake.client() as client:
                created = await self._service(client, kind).create_async(params=params)
        self._own_writes += 1
        await self.fake.settle()
        return str(created.id)

    async def edit_remote(
        self, kind: EntityKind, external_id: str, fields: Flat, notify: bool = True
    ) -> None:
        params: dict[str, Any] = {}
        for path, value in fields.items():
            name, key = split(path)
            wire = "" if value is None else value  # at Stripe, empty unsets
            if key is None:
                params[name] = wire
            else:
                params.setdefault(name, {})[key] = wire
        with self._notifying(notify):
            async with self.fake.client() as client:
                await self._service(client, kind).update_async(external_id, params=params)
        self._own_writes += 1
        await self.fake.settle()

    async def delete_remote(self, kind: EntityKind, external_id: str, notify: bool = True) -> None:
        with self._notifying(notify):
            async with self.fake.client() as client:
                await self._service(client, kind).delete_async(external_id)
        self._own_writes += 1
        await self.fake.settle()

    async def drift(self, kind: EntityKind, external_id: str, fields: Flat) -> None:
        from localstripe.resources import store

        obj = store[f"{OBJECTS[kind]}:{external_id}"]
        for path, value in fields.items():
            name, key = split(path)
            if key is None:
                setattr(obj, name, value)
            elif value is None:
                (obj.metadata or {}).pop(key, None)
            else:
                obj.metadata = {**(obj.metadata or {}), key: value}

    async def writes(self) -> int:
        # Once the webhooks of what was written are out: what they set moving shows.
        await self.fake.settle()
        made = [c for c in self.fake.calls if c.method in ("POST", "DELETE")]
        return len(made) - self._own_writes

    @contextlib.contextmanager
    def _notifying(self, notify: bool) -> Iterator[None]:
        """``notify=False``: the write's events are kept at Stripe (``/v1/events``, for
        catch-up) but never delivered."""
        if notify:
            yield
            return
        self.fake.webhook_mode = "capture"
        try:
            yield
        finally:
            self.fake.take_captured()
            self.fake.webhook_mode = "deliver"

    @staticmethod
    def _service(client: Any, kind: EntityKind) -> Any:
        return getattr(client.v1, f"{OBJECTS[kind]}s")


HARNESS = StripeHarness
