"""The provider's side of the repair jobs: objects page by page, and events since a cursor.

A provider brings its own paging behind these two interfaces (Stripe: ``starting_after`` /
``ending_before``; Salesforce: SOQL on ``Id`` and on ``SystemModstamp``). Cursors are opaque
strings the jobs keep in their checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.commands import Delete, Upsert
from shared.fields import Flat
from shared.kinds import EntityKind, Provider

Command = Upsert | Delete


@dataclass(frozen=True)
class Observed:
    """One object as the provider's API returned it, as an inbound upsert waiting for its id."""

    command: Upsert
    keys: Mapping[str, str] = field(default_factory=dict)
    """The kind's match keys besides the twoway id (customers: ``{"email": ...}``)."""
    holds: frozenset[str] | None = None
    """The kind's fields the provider's object can hold (None: every synced field); the
    others are never compared with the local entity."""

    @property
    def external_id(self) -> str:
        return self.command.external_id

    @property
    def local_id(self) -> str | None:
        return self.command.local_id

    def flat(self) -> Flat:
        return self.command.state.flat()

    def as_command(self, event_id: str, event_type: str) -> Upsert:
        """The upsert under a synthetic event id: the inbox dedupes on it."""
        return self.command.model_copy(
            update={"provider_event_id": event_id, "provider_event_type": event_type}
        )


@dataclass(frozen=True)
class Page:
    items: list[Observed]
    after: str | None
    """Where the next page starts (pass as ``after``); None: this was the last page."""


class ObjectSource(Protocol):
    provider: Provider

    async def page(self, kind: EntityKind, after: str | None) -> Page:
        """The next page of ``kind``'s objects after cursor ``after`` (None: the first)."""
        ...


@dataclass(frozen=True)
class EventPage:
    commands: list[Command]
    """Oldest first."""
    cursor: str | None
    """The newest event of the page (None: the page was empty)."""
    cursor_at: datetime | None
    more: bool


def position_of(read_at: datetime, last_at: datetime, more: bool) -> datetime:
    """Where a page of changes leaves the catch-up: at its last change while more follow; once
    it reached the newest, at the time of the read (twoway's clock), or at the last change it
    knows of if the provider's clock leads ours: never behind a change read."""
    return last_at if more else max(read_at, last_at)


class CursorExpired(Exception):
    """The provider no longer has the event a cursor names (older than its retention)."""


class EventSource(Protocol):
    provider: Provider
    retention: timedelta
    """How long the provider keeps its events (Stripe: 30 days)."""

    async def newest(self) -> tuple[str, datetime] | None:
        """The provider's newest event (id, time), None when it has none."""
        ...

    async def since(self, cursor: str) -> EventPage:
        """The events just after ``cursor``, oldest first; raises ``CursorExpired``."""
        ...


@dataclass(frozen=True)
class Sources:
    """A provider's side of the repair jobs, open for the length of a job."""

    objects: ObjectSource
    events: EventSource
    kinds: tuple[EntityKind, ...]
    """The kinds it can list (and audit)."""
