"""What the provider contract suite needs of a provider in tests: one harness per registered
provider, the test-side twin of its ``ProviderPlugin``.

A harness drives the provider's fake (or test service) from the outside, as a person at the
provider (or the provider itself) would, and reads it back in the app's terms: a flat mapping of
the kind's synced paths (``name``, ``email``, ``phone``, ``metadata.<key>``...) to values, only
those the provider's object holds.

``HARNESSES`` maps a provider's name to the factory of its harness; ``tests/providers/conftest``
runs the contract suite once per registered provider that has one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from services.runtime.providers import plugins, register_package
from services.runtime.settings import ProviderSettings
from shared.kinds import EntityKind, Provider
from shared.registry import Registry

Flat = Mapping[str, Any]


class ProviderHarness(Protocol):
    name: Provider

    def kinds(self) -> tuple[EntityKind, ...]:
        """The kinds the contract suite exercises at this provider."""
        ...

    def sample(self, kind: EntityKind, n: int) -> dict[str, Any]:
        """The n-th distinct create body of ``kind`` for the CRUD API (unique match keys)."""
        ...

    def change(self, kind: EntityKind, n: int) -> dict[str, Any]:
        """The n-th distinct change, as a PATCH body of the CRUD API and as a person's edit at
        the provider alike (top-level synced fields the provider holds, such as a name)."""
        ...

    def settings(
        self, base: Mapping[str, Any], gateway_url: str
    ) -> AbstractAsyncContextManager[ProviderSettings]:
        """The provider running (its fake started, pointed at the gateway at ``gateway_url``
        for its webhooks) and its one settings class filled in for worker, gateway and repair
        (``base``: the database, broker and retry settings of the test's deployment)."""
        ...

    async def remote(self, kind: EntityKind, external_id: str) -> Flat | None:
        """The object as the provider holds it now, in the app's paths; None once deleted."""
        ...

    async def create_remote(self, kind: EntityKind, fields: Flat, notify: bool = True) -> str:
        """Create an object at the provider as a person would (``fields`` in the app's paths);
        its id. ``notify=False``: no webhook is sent (a missed notification)."""
        ...

    async def edit_remote(
        self, kind: EntityKind, external_id: str, fields: Flat, notify: bool = True
    ) -> None:
        """A person's edit at the provider; ``notify=False``: its webhook never arrives (the
        change is still in the provider's change log, for catch-up)."""
        ...

    async def delete_remote(
        self, kind: EntityKind, external_id: str, notify: bool = True
    ) -> None: ...

    async def drift(self, kind: EntityKind, external_id: str, fields: Flat) -> None:
        """Change the object behind twoway's back: no webhook and nothing catch-up would read
        (only the drift audit can find it)."""
        ...

    async def writes(self) -> int:
        """How many writes twoway has made at the provider so far (loop freedom)."""
        ...


HarnessFactory = Callable[[], ProviderHarness]
HARNESSES: Registry[Provider, HarnessFactory] = Registry("provider harnesses")


def register_test_provider(package: str) -> None:
    """A provider that lives in the tests: its ``package.plugin`` registers with the others
    (after them: their order stays), its ``package.harness`` (``HARNESS``) with the harnesses."""
    plugins()
    found = register_package(f"{package}.plugin")
    harness = importlib.import_module(f"{package}.harness")
    HARNESSES.register(found.name, harness.HARNESS)
