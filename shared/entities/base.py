"""What every entity kind declares once, for every service: its two shapes.

- ``EntityData``: the full snapshot of one entity as the app's API returns it, carried by every
  event (``shared.events.EntityEvent.data``).
- ``ProviderState``: a provider's view of the synced fields (None: it has no value), carried by
  inbound commands (``shared.commands.Upsert.data``).

Both name the synced fields once (``synced_fields``); ``shared.fields`` turns them into paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from shared.fields import Flat, flatten
from shared.kinds import EntityKind


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntityData(Frozen):
    synced_fields: ClassVar[tuple[str, ...]] = ()
    """The fields kept in sync with providers."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime

    def flat(self) -> Flat:
        return flatten(self.model_dump(mode="json"), self.synced_fields)


class ProviderState(Frozen):
    synced_fields: ClassVar[tuple[str, ...]] = ()
    match_fields: ClassVar[tuple[str, ...]] = ()
    """Fields that find the local entity a provider's unlinked object is (customers: email)."""

    def flat(self) -> Flat:
        return flatten(self.model_dump(mode="json"), self.synced_fields)


@dataclass(frozen=True)
class EntityContract:
    kind: EntityKind
    data: type[EntityData]
    state: type[ProviderState]
