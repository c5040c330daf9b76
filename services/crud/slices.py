"""What an entity kind brings to the CRUD service: its slice, registered in ``entities``.

The generic writes (``records``), the API (``entity_api``), the inbound apply and the sync
status work from a slice and name no kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import BaseModel
from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.synced import SyncedModel
from shared.entities import KINDS, EntityContract, ProviderState
from shared.kinds import EntityKind

Matcher = Callable[[BaseDBAsyncClient, ProviderState], Awaitable[SyncedModel | None]]


@dataclass(frozen=True)
class Unique:
    """A unique field: what a write that would duplicate it is answered (409)."""

    field: str
    code: str
    problem: str


@dataclass(frozen=True)
class EntitySlice:
    kind: EntityKind
    model: type[SyncedModel]
    models_module: str
    create: type[BaseModel]
    """The API's create body; also what a provider's state must satisfy to be taken in."""
    patch: type[BaseModel]
    response: type[BaseModel]
    page: type[BaseModel]
    list_query: type[BaseModel]
    path: str
    """The collection's path (``/customers``)."""
    noun: str
    """How errors name one of them (``customer``)."""
    unique: tuple[Unique, ...] = ()
    match: Matcher | None = None
    """Finds an unlinked local entity a provider's new object is (customers: by email)."""
    delete_note: str = field(default="")
    search: tuple[str, ...] = ()
    """Indexed text fields the UI's list searches by prefix (customers: email, name)."""

    @property
    def contract(self) -> EntityContract:
        return KINDS[self.kind]
