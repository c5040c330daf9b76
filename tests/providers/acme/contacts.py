"""Customers as Acme contacts: ``name``, ``email`` and ``phone`` as they are (metadata has no
place on a contact and is not synced); the local id in ``twoway_id``.

A create is idempotent by the twoway id: Acme refuses a second live contact with the same one
(409 ``duplicate_twoway_id``, naming the contact that holds it), which is the contact an earlier
try of this create made, its answer lost. An update sends only the changed fields.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import JsonValue

from services.runtime.outbound.resource import Resource
from shared.entities import EntityData
from tests.providers.acme.client import AcmeClient, classify, code_of
from tests.providers.acme.normalize import FIELDS, HOLDS

PATH = "/contacts"


class AcmeContacts(Resource):
    synced = HOLDS

    def __init__(self, client: AcmeClient) -> None:
        self.client = client

    async def create(self, data: EntityData, key: str) -> str:
        body = {name: getattr(data, name) for name in FIELDS} | {"twoway_id": data.id}
        response = await self.client.request(
            "contacts.create", "POST", PATH, json=body, accept={409}
        )
        if response.status_code == 409 and code_of(response) == "duplicate_twoway_id":
            return str(response.json()["error"]["id"])
        if response.status_code == 409:
            raise classify(response)
        return str(response.json()["id"])

    async def update(
        self, external_id: str, local_id: str, values: Mapping[str, JsonValue], key: str
    ) -> None:
        fields = {name: value for name, value in values.items() if name in HOLDS}
        if fields:
            await self.client.request(
                "contacts.update", "PATCH", f"{PATH}/{external_id}", json=fields
            )

    async def delete(self, external_id: str, key: str) -> str | None:
        # Already deleted there (404) counts as deleted.
        await self.client.request(
            "contacts.delete", "DELETE", f"{PATH}/{external_id}", accept={404}
        )
        return None
