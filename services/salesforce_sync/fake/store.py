"""The org's Contacts: values, who changed them and when, deleted or not.

A deleted Contact stays (``IsDeleted`` true, as in the recycle bin): reads of it answer
``ENTITY_IS_DELETED``, and it no longer matches its External ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.salesforce_sync.fake import ids
from services.salesforce_sync.fake.clock import Clock, iso
from services.salesforce_sync.fake.config import FakeConfig
from services.salesforce_sync.fake.errors import ApiError
from services.salesforce_sync.fake.fields import WRITABLE


@dataclass
class Contact:
    id: str
    created_ms: int
    created_by: str
    modified_ms: int
    modified_by: str
    values: dict[str, str | None] = field(default_factory=dict)
    external_id: str | None = None
    is_deleted: bool = False

    def fields(self, external_id_field: str) -> dict[str, Any]:
        """Every field, by its API name (dates in Salesforce's format)."""
        first, last = self.values.get("FirstName"), self.values.get("LastName")
        return {
            "Id": self.id,
            "IsDeleted": self.is_deleted,
            "FirstName": first,
            "LastName": last,
            "Name": " ".join(p for p in (first, last) if p) or None,
            "Email": self.values.get("Email"),
            "Phone": self.values.get("Phone"),
            external_id_field: self.external_id,
            "CreatedDate": iso(self.created_ms),
            "CreatedById": self.created_by,
            "LastModifiedDate": iso(self.modified_ms),
            "LastModifiedById": self.modified_by,
            "SystemModstamp": iso(self.modified_ms),
        }


class ContactStore:
    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.clock = Clock(lambda: config.clock_ahead_s)
        self.records: dict[str, Contact] = {}

    def clear(self) -> None:
        self.records.clear()

    def get(self, contact_id: str) -> Contact:
        """The Contact (15- or 18-character id); 404 NOT_FOUND, or ENTITY_IS_DELETED."""
        found = self.records.get(contact_id) or next(
            (c for c in self.records.values() if len(contact_id) == 15 and c.id[:15] == contact_id),
            None,
        )
        if found is None:
            raise ApiError.one(404, "NOT_FOUND", "The requested resource does not exist")
        if found.is_deleted:
            raise ApiError.one(404, "ENTITY_IS_DELETED", "entity is deleted")
        return found

    def matching(self, external_id: str) -> list[Contact]:
        """Live Contacts whose External ID is ``external_id``."""
        return [
            c for c in self.records.values() if not c.is_deleted and c.external_id == external_id
        ]

    def create(self, values: dict[str, str | None], user: str) -> Contact:
        external_id = values.pop(self.config.external_id_field, None)
        self._unique(external_id, None)
        contact_id = ids.new_id(ids.CONTACT)
        while contact_id in self.records:
            contact_id = ids.new_id(ids.CONTACT)
        now = self.clock.stamp()
        contact = Contact(contact_id, now, user, now, user, external_id=external_id)
        contact.values = {name: values.get(name) for name in WRITABLE}
        self.records[contact_id] = contact
        return contact

    def update(self, contact: Contact, values: dict[str, str | None], user: str) -> None:
        """Write ``values``; a write counts as a change (new stamps) even when nothing differs,
        as Salesforce's does."""
        if self.config.external_id_field in values:
            external_id = values.pop(self.config.external_id_field)
            self._unique(external_id, contact)
            contact.external_id = external_id
        contact.values.update(values)
        contact.modified_ms = self.clock.stamp()
        contact.modified_by = user

    def delete(self, contact: Contact, user: str) -> None:
        contact.is_deleted = True
        contact.modified_ms = self.clock.stamp()
        contact.modified_by = user

    def _unique(self, external_id: str | None, contact: Contact | None) -> None:
        if external_id is None or not self.config.external_id_unique:
            return
        for other in self.matching(external_id):
            if other is not contact:
                raise ApiError.one(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {self.config.external_id_field} duplicates value "
                    f"on record with id: {other.id}",
                    [self.config.external_id_field],
                )
