"""The fake org: its configuration and every piece of its state, in one place to reset."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.salesforce_sync.fake.auth import Sessions
from services.salesforce_sync.fake.config import FakeConfig
from services.salesforce_sync.fake.faults import Faults
from services.salesforce_sync.fake.fields import checked
from services.salesforce_sync.fake.outbound import Outbound
from services.salesforce_sync.fake.store import Contact, ContactStore


class Org:
    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.launch_config = dataclasses.replace(config)
        self.contacts = ContactStore(config)
        self.sessions = Sessions(config)
        self.faults = Faults()
        self.outbound = Outbound(config, self.outbound_fields)
        self.used = 0
        self.requests: list[dict[str, Any]] = []
        self.query_results: dict[str, tuple[list[dict[str, Any]], int]] = {}
        """Query locators: the rows of a query with more to come, and its batch size."""
        self.started_at = datetime.now(UTC)

    async def reset(self, *, config: bool = False) -> None:
        """Forget all state (contacts, sessions, faults, usage, log, outbound queue); the
        configuration stays, unless ``config``: then the launch configuration is back."""
        if config:
            # In place: every part of the org holds this one config object.
            for field in dataclasses.fields(self.config):
                setattr(self.config, field.name, getattr(self.launch_config, field.name))
        self.contacts.clear()
        self.sessions.expire()
        self.faults.queued.clear()
        self.used = 0
        self.requests.clear()
        self.query_results.clear()
        await self.outbound.reset()

    # --- writes: every one by some user; each queues an Outbound Message -------------------
    def create(self, body: Any, user: str) -> Contact:
        values = checked(body, self.config.external_id_field, creating=True)
        contact = self.contacts.create(values, user)
        self.outbound.notify(contact.id)
        return contact

    def update(self, contact: Contact, body: Any, user: str) -> None:
        values = checked(body, self.config.external_id_field, creating=False)
        self.contacts.update(contact, values, user)
        self.outbound.notify(contact.id)

    def delete(self, contact: Contact, user: str, *, notify: bool) -> None:
        """``notify``: as a delete flow would, send the deleted record (``IsDeleted`` true);
        Salesforce's workflow rules send nothing for deletes."""
        self.contacts.delete(contact, user)
        if notify:
            self.outbound.notify(contact.id)

    # --- reads -----------------------------------------------------------------------------
    def outbound_fields(self, contact_id: str) -> Mapping[str, str | None] | None:
        contact = self.contacts.records.get(contact_id)
        if contact is None:
            return None
        all_fields = contact.fields(self.config.external_id_field)
        names = ["Id", "FirstName", "LastName", "Email", "Phone", self.config.external_id_field]
        names += ["LastModifiedById", "SystemModstamp"]
        sent: dict[str, str | None] = {name: all_fields[name] for name in names}
        sent["IsDeleted"] = "true" if contact.is_deleted else "false"
        return sent

    def view(
        self, contact: Contact, version: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """The Contact as the REST API shows it (``fields``: only those, and ``attributes``)."""
        everything = contact.fields(self.config.external_id_field)
        chosen = everything if fields is None else {n: everything[n] for n in fields}
        url = f"/services/data/v{version}/sobjects/Contact/{contact.id}"
        return {"attributes": {"type": "Contact", "url": url}, **chosen}
