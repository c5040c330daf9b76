"""One entity kind at one provider: the three writes a provider worker makes, and the two
reads that keep a create from making a second object.

Every request goes through the provider's own call wrapper (rate budget, metrics, its errors
mapped to ``Retryable``/``Permanent``); ``key`` is the request's idempotency key where the
provider has them (``shared.bookkeeping``), else unused (Salesforce's upsert by external id is
idempotent by construction).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta

from pydantic import JsonValue

from services.runtime.repair.source import Observed
from shared.entities import EntityData
from shared.fields import split


class Resource(ABC):
    replay_window: timedelta | None = None
    """How long the provider replays a create sent again with the same idempotency key (None:
    creates are idempotent by construction, e.g. upserts by the local id)."""
    synced: frozenset[str] | None = None
    """The top-level fields this resource keeps in sync (None: all the kind's). A path of
    another field is never sent, nor reported as written."""

    def syncs(self, path: str) -> bool:
        return self.synced is None or split(path)[0] in self.synced

    @abstractmethod
    async def create(self, data: EntityData, key: str) -> str:
        """Create the whole entity there; its id there."""

    @abstractmethod
    async def update(
        self, external_id: str, local_id: str, values: Mapping[str, JsonValue], key: str
    ) -> None:
        """Set these paths (None: unset) of the entity there."""

    @abstractmethod
    async def delete(self, external_id: str, key: str) -> str | None:
        """Delete it there (already gone counts as deleted); a note for the sync status when
        the provider kept it in some other form."""

    async def claim(self, external_id: str, local_id: str) -> None:
        """Mark an object made at the provider (by a person there) as the entity's, where the
        provider's objects hold the local id (Salesforce's External ID field). Default: the
        link alone says it."""
        return None

    async def find_own(self, local_id: str, data: EntityData) -> str | None:
        """The object an earlier create of this entity made there, whose answer was lost (its
        id), or None. Default: creates are idempotent by construction (an upsert by the local
        id), so nothing needs finding."""
        return None

    async def find_matches(self, data: EntityData) -> list[Observed]:
        """The objects there whose match keys equal the entity's (a customer's email), as
        read now. Default: the provider cannot be asked, so nothing is adopted on create."""
        return []
