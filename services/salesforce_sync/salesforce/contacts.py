"""Customers as Salesforce Contacts.

Mapping: ``name`` -> ``FirstName`` + ``LastName`` (``LastName`` is required: the last word of
the name is the last name, everything before it the first name; a one-word name is a last name
only; inbound, the two are joined with one space), ``email`` -> ``Email``, ``phone`` ->
``Phone``. Metadata has no place on a Contact and is not synced. The local id lives in the
External ID field (``TWOWAY_SALESFORCE_EXTERNAL_ID_FIELD``, default ``Twoway_Id__c``).

Creates and updates are upserts by that External ID
(``PATCH /sobjects/Contact/{field}/{local id}``): idempotent by construction, so a redelivery
cannot duplicate. An update sends only the changed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from services.runtime.outbound.resource import Resource
from services.salesforce_sync.salesforce.client import SalesforceClient
from shared.entities import EntityData

SOBJECT = "/sobjects/Contact"


def split_name(name: JsonValue) -> tuple[str | None, str | None]:
    """``"Ada King Lovelace"`` -> ``("Ada King", "Lovelace")``; ``"Ada"`` -> ``(None, "Ada")``."""
    if not isinstance(name, str) or not name.strip():
        return None, None
    first, _, last = name.strip().rpartition(" ")
    return first or None, last


def join_name(first: str | None, last: str | None) -> str | None:
    parts = [p for p in (first, last) if p]
    return " ".join(parts) or None


def contact_fields(values: Mapping[str, JsonValue]) -> dict[str, Any]:
    """Contact fields for the given customer paths (None clears a field)."""
    fields: dict[str, Any] = {}
    if "name" in values:
        fields["FirstName"], fields["LastName"] = split_name(values["name"])
    if "email" in values:
        fields["Email"] = values["email"]
    if "phone" in values:
        fields["Phone"] = values["phone"]
    return fields


class SalesforceContacts(Resource):
    synced = frozenset({"name", "email", "phone"})

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self.by_local_id = f"{SOBJECT}/{client.settings.salesforce_external_id_field}"

    async def _upsert(self, local_id: str, fields: dict[str, Any]) -> str | None:
        """Upsert by External ID; the Contact's Id when Salesforce tells it."""
        response = await self.client.request(
            "contacts.upsert", "PATCH", f"{self.by_local_id}/{local_id}", json=fields
        )
        if response.status_code == 204 or not response.content:
            return None  # updated, and API versions before 46.0 say no more
        body: dict[str, Any] = response.json()
        return str(body["id"]) if body.get("id") else None

    async def create(self, data: EntityData, key: str) -> str:
        values = {name: getattr(data, name) for name in self.synced}
        contact_id = await self._upsert(data.id, contact_fields(values))
        if contact_id is not None:
            return contact_id
        found = await self.client.request(
            "contacts.get", "GET", f"{self.by_local_id}/{data.id}", params={"fields": "Id"}
        )
        return str(found.json()["Id"])

    async def update(
        self, external_id: str, local_id: str, values: Mapping[str, JsonValue], key: str
    ) -> None:
        # By the Contact's Id, the link's one truth: an upsert by External ID would make a
        # second Contact when this one's field is blank (made in Salesforce, not yet claimed).
        fields = contact_fields(values)
        if fields:
            await self.client.request(
                "contacts.update", "PATCH", f"{SOBJECT}/{external_id}", json=fields
            )

    async def claim(self, external_id: str, local_id: str) -> None:
        await self.client.request(
            "contacts.claim",
            "PATCH",
            f"{SOBJECT}/{external_id}",
            json={self.client.settings.salesforce_external_id_field: local_id},
        )

    async def delete(self, external_id: str, key: str) -> str | None:
        # Already deleted there (404 NOT_FOUND or ENTITY_IS_DELETED) counts as deleted.
        await self.client.request(
            "contacts.delete", "DELETE", f"{SOBJECT}/{external_id}", accept={404}
        )
        return None
