"""``SalesforceChanges``: the ``EventSource`` of Salesforce, polling on ``SystemModstamp``.

Outbound Messages can be lost (dropped after 24 hours of failed deliveries) and are never sent
for deletes. This source reads back every change since the last one seen:

    SELECT ... FROM Contact
    WHERE SystemModstamp > :stamp OR (SystemModstamp = :stamp AND Id > :id)
    ORDER BY SystemModstamp, Id LIMIT 200

through ``queryAll``, so deleted records come too (``IsDeleted`` true, ``SystemModstamp`` the
time of the delete): a Contact deleted in Salesforce reaches the app with no delete flow in
the org. Many records can share one ``SystemModstamp``: the cursor is ``<stamp>|<Id>``, the
tie broken on ``Id``. Each record is one command under the synthetic id
``changes:<Id>:<stamp ms>``, so a change read twice is one change to the inbox; a change that
arrived as an Outbound Message too finds nothing left to do in the merge.

Changes made by the integration user (twoway's own writes; the user the sign-in's identity URL
names) are skipped, as the gateway skips their Outbound Messages.

Deleted records stay in the Recycle Bin for about 15 days: a cursor older than that may have
missed deletes (``retention``), and the job says to run reconcile. A pass that reached the
newest change is caught up to the time of its read (or to that change, if the org's clock is
ahead of ours), so a quiet org is no reason to think changes were lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from services.runtime.repair.source import Command, CursorExpired, EventPage, position_of
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.normalize import MalformedRecord, command_of, stamp
from services.salesforce_sync.repair import soql
from services.salesforce_sync.repair.objects import select, sobject_of
from services.salesforce_sync.salesforce.client import SalesforceClient
from shared.kinds import EntityKind

log = logging.getLogger(__name__)

PAGE_SIZE = 200
RETENTION = timedelta(days=15)
EVENT_TYPE = "query"


def cursor_of(at: datetime, record_id: str) -> str:
    return f"{soql.literal(at)}|{record_id}"


def parse_cursor(cursor: str) -> tuple[datetime, str]:
    raw, _, record_id = cursor.partition("|")
    try:
        return stamp(raw), record_id
    except MalformedRecord:
        raise CursorExpired(f"not a Salesforce cursor: {cursor}") from None


class SalesforceChanges:
    provider = SALESFORCE
    retention = RETENTION

    def __init__(self, client: SalesforceClient, kind: EntityKind = EntityKind.CUSTOMER) -> None:
        self.client = client
        self.sobject = sobject_of(kind)

    async def newest(self) -> tuple[str, datetime] | None:
        text = (
            f"SELECT Id, SystemModstamp FROM {self.sobject} "
            "ORDER BY SystemModstamp DESC, Id DESC LIMIT 1"
        )
        found = await soql.rows(self.client, text, deleted=True, operation="changes.newest")
        if not found:
            return None
        at = stamp(found[0].get("SystemModstamp"))
        return cursor_of(at, str(found[0]["Id"])), at

    async def since(self, cursor: str) -> EventPage:
        at, record_id = parse_cursor(cursor)
        moment, after = soql.literal(at), soql.quoted(record_id)
        text = (
            f"{select(self.client)} FROM {self.sobject} "
            f"WHERE SystemModstamp > {moment} OR (SystemModstamp = {moment} AND Id > {after}) "
            f"ORDER BY SystemModstamp, Id LIMIT {PAGE_SIZE}"
        )
        read_at = datetime.now(UTC)
        integration_user = (await self.client.token()).user_id
        records = await soql.rows(self.client, text, deleted=True, operation="changes.list")
        commands: list[Command] = []
        for record in records:
            if integration_user is not None and record.get("LastModifiedById") == integration_user:
                continue  # twoway's own write
            try:
                changed_at = stamp(record.get("SystemModstamp"))
                commands.append(
                    command_of(
                        self.sobject,
                        record,
                        event_id=f"changes:{record.get('Id')}:{int(changed_at.timestamp() * 1000)}",
                        event_type=f"{self.sobject}.{EVENT_TYPE}",
                        external_id_field=self.client.settings.salesforce_external_id_field,
                    )
                )
            except MalformedRecord as exc:
                log.error(
                    "record skipped", extra={"external_id": record.get("Id"), "error": str(exc)}
                )
        more = len(records) == PAGE_SIZE
        if not records:  # the cursor's change is still the newest
            return EventPage([], cursor, position_of(read_at, at, False), False)
        last = records[-1]
        last_at = stamp(last.get("SystemModstamp"))  # the org's clock; the read time is ours
        return EventPage(
            commands, cursor_of(last_at, str(last["Id"])), position_of(read_at, last_at, more), more
        )
