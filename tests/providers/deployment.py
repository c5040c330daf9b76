"""One provider's deployment, run in the test's process, seen as a user sees it: the app's API
on one side, the provider (through its harness) on the other.

Provider-neutral: what it knows of the provider is its plug-in and its harness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import REGISTRY

from services.crud.entities import ENTITIES
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.runtime.settings import ProviderSettings
from shared.entities import KINDS
from shared.fields import fields_of, flatten
from shared.kinds import EntityKind, Provider
from shared.topology import WorkQueue
from tests.conftest import Broker
from tests.providers.harness import Flat, ProviderHarness
from tests.waiting import WaitTimedOut, eventually

CONSUMED = "twoway_messages_consumed_total"
SETTLED = "twoway_messages_settled_total"
SYNC_S = 15.0


def counter(name: str, queue: str) -> float:
    """A worker metric summed over its other labels (0 before the first sample)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name and sample.labels.get("queue") == queue
    )


@dataclass(frozen=True)
class Snapshot:
    """What is moving, and how much has moved, at one moment."""

    unpublished: int
    ready: tuple[int, ...]
    in_flight: tuple[float, ...]
    writes: int

    @property
    def idle(self) -> bool:
        return self.unpublished == 0 and not any(self.ready) and not any(self.in_flight)


def app_flat(kind: EntityKind, entity: Mapping[str, Any]) -> Flat:
    """An entity as the API shows it, in the synced paths."""
    return flatten(entity, KINDS[kind].data.synced_fields)


def body_flat(kind: EntityKind, body: Mapping[str, Any]) -> Flat:
    """A create or patch body in the synced paths (only the fields it sets)."""
    return flatten(body, [f for f in KINDS[kind].data.synced_fields if f in body])


def differences(app: Flat, remote: Flat) -> dict[str, tuple[Any, Any]]:
    """Paths the provider holds whose values differ: path -> (app, provider)."""
    held = fields_of(remote)
    paths = {p for p in set(app) | set(remote) if fields_of([p]) <= held}
    return {p: (app.get(p), remote.get(p)) for p in sorted(paths) if app.get(p) != remote.get(p)}


@dataclass
class Deployment:
    """crud (API, relay, inbound, sync results), the gateway and the provider's worker."""

    provider: Provider
    harness: ProviderHarness
    api: httpx.AsyncClient
    sync: ProviderSettings
    """The provider's settings, as its worker, the gateway and the repair jobs read them."""
    crud: CrudSettings
    broker: Broker
    queues: tuple[WorkQueue, ...]
    _baseline: dict[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Handlers cut short by earlier tests' shutdowns never settle: count from here.
        for queue in self.queues:
            for name in (CONSUMED, SETTLED):
                self._baseline[name, queue.name] = counter(name, queue.name)

    # --- the app's side ----------------------------------------------------------------------
    async def entity(self, kind: EntityKind, entity_id: str) -> dict[str, Any] | None:
        response = await self.api.get(f"{ENTITIES[kind].path}/{entity_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def entities(self, kind: EntityKind) -> list[dict[str, Any]]:
        response = await self.api.get(ENTITIES[kind].path, params={"limit": 100})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["data"]
        return found

    def sync_of(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = entity["sync"][self.provider]
        return found

    def synced(self, entity: Mapping[str, Any] | None) -> bool:
        if entity is None:
            return False
        sync = self.sync_of(entity)
        return bool(sync["status"] == "synced" and sync["synced_version"] == entity["version"])

    async def until_synced(self, kind: EntityKind, entity_id: str) -> dict[str, Any]:
        async def synced() -> dict[str, Any] | None:
            entity = await self.entity(kind, entity_id)
            return entity if self.synced(entity) else None

        try:
            found: dict[str, Any] | None = await eventually(synced, SYNC_S, what="synced")
        except WaitTimedOut:
            raise WaitTimedOut(f"never synced: {await self.entity(kind, entity_id)}") from None
        assert found is not None
        return found

    async def until_holds(
        self, kind: EntityKind, entity_id: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The entity once it holds ``values`` (in the synced paths) and is synced."""

        async def held() -> dict[str, Any] | None:
            entity = await self.entity(kind, entity_id)
            if entity is None or not self.synced(entity):
                return None
            flat = app_flat(kind, entity)
            return entity if all(flat.get(p) == v for p, v in values.items()) else None

        try:
            found: dict[str, Any] | None = await eventually(held, SYNC_S, what="the values held")
        except WaitTimedOut:
            raise WaitTimedOut(
                f"{values} never held: {await self.entity(kind, entity_id)}"
            ) from None
        assert found is not None
        return found

    async def create(self, kind: EntityKind, body: Mapping[str, Any]) -> dict[str, Any]:
        """An entity made through the API, at the provider, with everything settled."""
        created = await self.api.post(ENTITIES[kind].path, json=body)
        assert created.status_code == 201, created.text
        entity = await self.until_synced(kind, created.json()["id"])
        await self.quiet()
        return entity

    async def delete(self, kind: EntityKind, entity: Mapping[str, Any]) -> None:
        deleted = await self.api.delete(
            f"{ENTITIES[kind].path}/{entity['id']}",
            headers={"If-Match": f'"{entity["version"]}"'},
        )
        assert deleted.status_code == 204, deleted.text

    # --- both sides ----------------------------------------------------------------------------
    async def remote_of(self, kind: EntityKind, entity: Mapping[str, Any]) -> Flat | None:
        external_id = self.sync_of(entity)["external_id"]
        assert external_id, f"not linked at {self.provider}: {self.sync_of(entity)}"
        return await self.harness.remote(kind, external_id)

    async def assert_agree(self, kind: EntityKind, entity: Mapping[str, Any]) -> None:
        """The provider's object holds what the app shows; nothing was dead-lettered."""
        remote = await self.remote_of(kind, entity)
        assert remote is not None, f"gone at {self.provider}: {entity}"
        assert differences(app_flat(kind, entity), remote) == {}
        await self.assert_no_dead_letters()

    async def assert_no_dead_letters(self) -> None:
        for queue in self.queues:
            assert await self.broker.count(queue.dead_letter) == 0, queue.dead_letter

    # --- quiet -----------------------------------------------------------------------------
    async def snapshot(self) -> Snapshot:
        waiting = [q.retry_queue(d) for q in self.queues for d in self.crud.retry_delays_ms]
        ready = [await self.broker.count(name) for name in [q.name for q in self.queues] + waiting]
        in_flight = []
        for queue in self.queues:
            consumed = counter(CONSUMED, queue.name) - self._baseline[CONSUMED, queue.name]
            settled = counter(SETTLED, queue.name) - self._baseline[SETTLED, queue.name]
            in_flight.append(consumed - settled)
        return Snapshot(
            unpublished=await OutboxEvent.filter(published_at__isnull=True).count(),
            ready=tuple(ready),
            in_flight=tuple(in_flight),
            writes=await self.harness.writes(),
        )

    async def quiet(self, timeout: float = SYNC_S, gap: float = 0.1) -> Snapshot:
        """Wait until nothing moves: no unpublished outbox row, every work and retry queue
        empty, every delivered message settled, no new write at the provider, all of it the
        same in two readings ``gap`` seconds apart."""
        seen: list[Snapshot] = []

        async def still() -> Snapshot | None:
            seen.append(await self.snapshot())
            current, previous = seen[-1], seen[-2] if len(seen) > 1 else None
            return current if current.idle and current == previous else None

        try:
            quiet = await eventually(still, timeout, gap, what="quiet")
        except WaitTimedOut:
            raise WaitTimedOut(f"the deployment did not go quiet: {seen[-1]}") from None
        assert quiet is not None
        return quiet
