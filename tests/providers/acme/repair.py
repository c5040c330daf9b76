"""Acme's side of the repair jobs: contacts listed by id (``AcmeObjects``) and the change log
read back since a cursor (``AcmeChanges``), deletes included. Every request goes through the
client in the budget's bulk lane: live sync goes first.

The change log keeps entries for a retention only (``RETENTION``; the service answers 410 for
a cursor older than what it kept): catch-up then says to run reconcile. Its entries share their
ids with the webhooks (``evt_<seq>``), so a change that arrived both ways is one to the inbox.
Changes made by twoway's own API user are skipped, as the gateway skips their webhooks.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.runtime.repair.source import (
    Command,
    CursorExpired,
    EventPage,
    Observed,
    Page,
    Sources,
    position_of,
)
from shared.commands import Upsert
from shared.kinds import EntityKind
from tests.providers.acme.client import AcmeClient
from tests.providers.acme.contacts import PATH
from tests.providers.acme.main import acme_budget
from tests.providers.acme.names import ACME
from tests.providers.acme.normalize import HOLDS, MalformedContact, command_of, event_id, stamp
from tests.providers.acme.settings import AcmeSettings

log = logging.getLogger(__name__)

PAGE_SIZE = 100
RETENTION = timedelta(days=7)


class AcmeObjects:
    provider = ACME

    def __init__(self, client: AcmeClient) -> None:
        self.client = client

    async def page(self, kind: EntityKind, after: str | None) -> Page:
        params = {"limit": str(PAGE_SIZE), **({"after": after} if after else {})}
        answer = await self.client.request("contacts.list", "GET", PATH, params=params, lane="bulk")
        body: dict[str, Any] = answer.json()
        items: list[Observed] = []
        for contact in body["data"]:
            try:
                command = command_of(
                    contact, event_id=f"list:{contact.get('id')}", event_type="list"
                )
            except MalformedContact as exc:
                log.warning(
                    "contact skipped", extra={"external_id": contact.get("id"), "error": str(exc)}
                )
                continue
            if isinstance(command, Upsert):
                email = command.data.get("email")
                items.append(Observed(command, {"email": str(email)} if email else {}, HOLDS))
        return Page(items, body["next"])


class AcmeChanges:
    provider = ACME
    retention = RETENTION

    def __init__(self, client: AcmeClient) -> None:
        self.client = client

    async def newest(self) -> tuple[str, datetime] | None:
        answer = await self.client.request("changes.latest", "GET", "/changes/latest", lane="bulk")
        entry = answer.json()["data"]
        return None if entry is None else (str(entry["cursor"]), stamp(entry["time"]))

    async def since(self, cursor: str) -> EventPage:
        read_at = datetime.now(UTC)
        answer = await self.client.request(
            "changes.list",
            "GET",
            "/changes",
            params={"after": cursor, "limit": str(PAGE_SIZE)},
            accept={400, 410},
            lane="bulk",
        )
        if answer.status_code in (400, 410):
            raise CursorExpired(f"Acme no longer has the changes after {cursor}")
        body: dict[str, Any] = answer.json()
        entries: list[dict[str, Any]] = body["data"]
        if not entries:
            return EventPage([], cursor, read_at, False)  # caught up as of this read
        commands: list[Command] = []
        for entry in entries:
            contact = entry["object"]
            if contact.get("changed_by") == self.client.settings.acme_api_user:
                continue  # twoway's own write
            try:
                commands.append(
                    command_of(
                        contact,
                        event_id=event_id(entry["seq"]),
                        event_type=f"contact.{entry['type']}",
                    )
                )
            except MalformedContact as exc:
                log.error(
                    "change skipped", extra={"cursor": entry.get("cursor"), "error": str(exc)}
                )
        more = body["next"] is not None
        last = entries[-1]
        position = position_of(read_at, stamp(last["time"]), more)  # Acme's clock is its own
        return EventPage(commands, str(last["cursor"]), position, more)


@contextlib.asynccontextmanager
async def open_sources(settings: AcmeSettings) -> AsyncIterator[Sources]:
    async with (
        httpx.AsyncClient(timeout=settings.acme_timeout_s) as http,
        acme_budget(settings) as budget,
    ):
        client = AcmeClient(settings, http, budget)
        yield Sources(AcmeObjects(client), AcmeChanges(client), (EntityKind.CUSTOMER,))
