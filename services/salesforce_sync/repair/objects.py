"""``SalesforceObjects``: the ``ObjectSource`` of Salesforce: the records of each registered
sObject type in ``Id`` order, a page (``LIMIT 200``) after the last ``Id`` seen, so a cursor
stays valid for ever (unlike a query locator, which expires after 15 minutes). Each record is
read the way an Outbound Message is (``services.salesforce_sync.normalize``), as of its
``SystemModstamp``."""

from __future__ import annotations

import logging

from services.runtime.repair.source import Observed, Page
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.normalize import (
    CHANGE_FIELDS,
    CONTACT_FIELDS,
    CONTACT_HOLDS,
    SALESFORCE_OBJECTS,
    MalformedRecord,
    command_of,
)
from services.salesforce_sync.repair import soql
from services.salesforce_sync.salesforce.client import SalesforceClient
from shared.commands import Upsert
from shared.entities import KINDS
from shared.kinds import EntityKind

log = logging.getLogger(__name__)

PAGE_SIZE = 200


def sobject_of(kind: EntityKind) -> str:
    return next(name for name, k in SALESFORCE_OBJECTS.items() if k == kind)


def select(client: SalesforceClient) -> str:
    names = (*CONTACT_FIELDS, *CHANGE_FIELDS, client.settings.salesforce_external_id_field)
    return "SELECT " + ", ".join(names)


class SalesforceObjects:
    provider = SALESFORCE

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    async def page(self, kind: EntityKind, after: str | None) -> Page:
        sobject = sobject_of(kind)
        where = f" WHERE Id > {soql.quoted(after)}" if after is not None else ""
        text = f"{select(self.client)} FROM {sobject}{where} ORDER BY Id LIMIT {PAGE_SIZE}"
        records = await soql.rows(self.client, text, operation=f"{sobject.lower()}s.list")
        match = KINDS[kind].state.match_fields
        items: list[Observed] = []
        for record in records:
            try:
                command = command_of(
                    sobject,
                    record,
                    event_id=f"list:{record.get('Id')}",
                    event_type="list",
                    external_id_field=self.client.settings.salesforce_external_id_field,
                )
            except MalformedRecord as exc:
                log.warning(
                    f"{sobject} skipped", extra={"external_id": record.get("Id"), "error": str(exc)}
                )
                continue
            if not isinstance(command, Upsert):
                continue  # ``query`` leaves deleted rows out; never linked or imported
            keys = {f: str(command.data[f]) for f in match if command.data.get(f)}
            items.append(Observed(command, keys, CONTACT_HOLDS))
        last = str(records[-1]["Id"]) if len(records) == PAGE_SIZE else None
        return Page(items, last)
