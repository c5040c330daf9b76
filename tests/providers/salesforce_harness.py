"""Salesforce's harness: the fake org (``services/salesforce_sync/fake``) as a child process of
the test, driven through its ``/_fake`` routes as a person in Salesforce's UI would.

A Contact in the app's paths (``services/salesforce_sync/normalize``): ``FirstName`` and
``LastName`` joined with one space are the ``name``, ``Email`` the ``email``, ``Phone`` the
``phone``; it holds no metadata.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from services.runtime.settings import ProviderSettings
from services.salesforce_sync.fake.process import running_fake_salesforce
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.settings import SalesforceSettings
from shared.kinds import EntityKind
from tests.fakes.salesforce_fake import SalesforceFake
from tests.providers.harness import Flat

TOKEN = "tok-contract-suite-" + "x" * 16
FIELDS = {"email": "Email", "phone": "Phone"}
"""The app's paths a Contact holds as they are (the name is split in two)."""


def contact_fields(fields: Flat) -> dict[str, Any]:
    """The app's paths as a Contact's fields: the name split at its last space."""
    out: dict[str, Any] = {}
    for path, value in fields.items():
        if path == "name":
            first, _, last = str(value or "").rpartition(" ")
            out["FirstName"], out["LastName"] = first or None, last or None
        elif path in FIELDS:
            out[FIELDS[path]] = value
        else:
            raise ValueError(f"a Contact holds no {path}")
    return out


class SalesforceHarness:
    name = SALESFORCE

    def __init__(self) -> None:
        self._fake: SalesforceFake | None = None
        self._outbound_url: str | None = None

    @property
    def fake(self) -> SalesforceFake:
        assert self._fake is not None, "Salesforce is not running (use harness.settings)"
        return self._fake

    def kinds(self) -> tuple[EntityKind, ...]:
        return (EntityKind.CUSTOMER,)

    def sample(self, kind: EntityKind, n: int) -> dict[str, Any]:
        return {"name": f"Ada Lovelace{n}", "email": f"ada{n}@example.com",
                "phone": f"+1 555 01{n:02d}"}  # fmt: skip

    def change(self, kind: EntityKind, n: int) -> dict[str, Any]:
        return {"name": f"Grace Hopper{n}", "phone": f"+1 555 02{n:02d}"}

    @contextlib.asynccontextmanager
    async def settings(
        self, base: Mapping[str, Any], gateway_url: str
    ) -> AsyncIterator[ProviderSettings]:
        async with (
            running_fake_salesforce() as process,
            httpx.AsyncClient(timeout=15) as http,
        ):
            fake = SalesforceFake(process, http)
            self._outbound_url = f"{gateway_url}/webhooks/salesforce/{TOKEN}"
            await fake.configure(outbound_url=self._outbound_url)
            self._fake = fake
            try:
                yield SalesforceSettings.model_validate(
                    {
                        **base,
                        "salesforce_login_url": fake.url,
                        "salesforce_client_id": fake.client_id,
                        "salesforce_client_secret": fake.client_secret,
                        "salesforce_timeout_s": 2.0,
                        "salesforce_org_id": fake.org_id,
                        "salesforce_webhook_token": TOKEN,
                        "salesforce_integration_user_id": fake.integration_user_id,
                    }
                )
            finally:
                self._fake = None

    async def remote(self, kind: EntityKind, external_id: str) -> Flat | None:
        contact = await self.fake.contact(external_id)
        if contact is None or contact["IsDeleted"]:
            return None
        names = (contact.get("FirstName"), contact.get("LastName"))
        name = " ".join(n for n in names if n) or None
        return {"name": name} | {path: contact.get(field) for path, field in FIELDS.items()}

    async def create_remote(self, kind: EntityKind, fields: Flat, notify: bool = True) -> str:
        async with self._notifying(notify):
            created = await self.fake.create(**contact_fields(fields))
        return str(created["Id"])

    async def edit_remote(
        self, kind: EntityKind, external_id: str, fields: Flat, notify: bool = True
    ) -> None:
        async with self._notifying(notify):
            await self.fake.edit(external_id, **contact_fields(fields))

    async def delete_remote(self, kind: EntityKind, external_id: str, notify: bool = True) -> None:
        await self.fake.delete(external_id, notify=notify)
        await self.fake.settle()

    async def drift(self, kind: EntityKind, external_id: str, fields: Flat) -> None:
        await self.fake.drift(external_id, **contact_fields(fields))

    async def writes(self) -> int:
        # Once the Outbound Messages of what was written are acknowledged: what they set
        # moving shows.
        await self.fake.settle()
        return len(await self.fake.api_writes())

    @contextlib.asynccontextmanager
    async def _notifying(self, notify: bool) -> AsyncIterator[None]:
        """``notify=False``: no Outbound Message is configured for the change (the org still
        shows it by ``SystemModstamp``, for catch-up)."""
        if not notify:
            await self.fake.drop_outbound()
        try:
            yield
        finally:
            if not notify:
                await self.fake.configure(outbound_url=self._outbound_url)
        await self.fake.settle()


HARNESS = SalesforceHarness
