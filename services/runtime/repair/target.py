"""The app's side of the repair jobs: what it holds for a provider's objects, and the ways a
job may change it (the inbound path for provider state, the outbox for pushes).

    Verdict    -- what happened to one provider object in a reconcile or a repair
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from pydantic import JsonValue

from services.runtime.repair.source import Observed
from shared.commands import Upsert
from shared.kinds import EntityKind


class Verdict(StrEnum):
    IN_STEP = "in_step"  # linked already, and equal: nothing done
    LINKED = "linked"  # linked to an existing local entity (the merge decided each field)
    IMPORTED = "imported"  # no local entity claimed it: created here
    AMBIGUOUS = "ambiguous"  # several candidates: left alone, reported
    FAILED = "failed"  # could not be applied (e.g. a state the app cannot hold)
    GONE = "gone"  # deleted here: a delete is final, nothing brings it back


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    entity_id: str | None = None
    detail: str | None = None
    wrote: bool = False
    """Something changed here (an entity, a link or a re-send to the provider)."""


@dataclass(frozen=True)
class Difference:
    path: str
    app: JsonValue
    provider: JsonValue
    pending: bool
    """The app's value is a local change the provider has not confirmed yet: on its way."""
    known: bool
    """The provider's value is the one twoway last knew it to hold (its shadow): the provider
    did not change it behind twoway's back."""


@dataclass(frozen=True)
class Look:
    """One provider object next to its local entity (None: not linked here)."""

    external_id: str
    entity_id: str | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def drifting(self) -> bool:
        """Linked, and the provider holds a value twoway did not know of: a change it never
        heard of (a lost webhook, a write behind its back)."""
        return self.entity_id is not None and any(not d.known for d in self.differences)


@dataclass(frozen=True)
class Local:
    """A local entity with its match keys (customers: ``{"email": ...}``)."""

    entity_id: str
    keys: Mapping[str, str]


class LocalTarget(Protocol):
    async def looks(self, kind: EntityKind, items: Sequence[Observed]) -> list[Look]:
        """Each object next to its linked local entity, read-only, in the order given."""
        ...

    async def apply(self, command: Upsert, dry_run: bool = False) -> Result:
        """Apply ``command`` through the inbound path (inbox, merge, link, shadow, outbox);
        ``dry_run``: in a transaction rolled back, so what would happen, writing nothing."""
        ...

    async def earlier(self, kind: EntityKind, event_ids: Sequence[str]) -> dict[str, Result]:
        """What the inbound path did with those of ``event_ids`` it applied already."""
        ...

    async def unsynced(self, kind: EntityKind, after: str | None, limit: int) -> list[Local]:
        """Local entities in id order after ``after`` with no live link to the provider."""
        ...

    async def push(
        self, kind: EntityKind, entity_ids: Sequence[str], then: Callable[[], Awaitable[None]]
    ) -> int:
        """Send those entities to the provider through the outbox, in one transaction that
        also runs ``then`` (a checkpoint); how many were pushed."""
        ...
