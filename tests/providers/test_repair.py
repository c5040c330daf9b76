"""The repair jobs against the provider: reconcile adopts what each side has (link, import,
push) and a rerun does nothing; catch-up delivers what no notification told; the drift audit
repairs what nothing told, so both sides agree."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.crud.entities import ENTITIES
from services.crud.ids import new_id
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.repair import reconcile_command
from services.repair.wiring import app_side
from services.runtime.amqp import AmqpBus
from services.runtime.links.models import ExternalLink
from services.runtime.providers import plugin
from services.runtime.repair.audit import Audit
from services.runtime.repair.catchup import CatchUp, publisher
from services.runtime.repair.progress import Progress
from services.runtime.repair.source import Sources
from shared.entities import KINDS
from shared.kinds import EntityKind
from tests.providers.deployment import Deployment, app_flat, body_flat
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def local_entity(kind: EntityKind, body: Mapping[str, Any]) -> str:
    """An entity in the app's table as a team adopting twoway has it (SQL, not the API): no
    event, never synced. Its id."""
    slice_ = ENTITIES[kind]
    fields = slice_.create.model_validate(body).model_dump()
    now = datetime.now(UTC)
    made = await slice_.model.create(
        id=new_id(), version=1, field_clock={}, created_at=now, updated_at=now, **fields
    )
    return str(made.id)


async def reconcile(deployment: Deployment, kind: EntityKind, tmp_path: Path) -> dict[str, Any]:
    """``twoway reconcile <provider> --kind <kind>`` in this process; its report's counts."""
    parser = argparse.ArgumentParser()
    reconcile_command.add_arguments(parser)
    report = tmp_path / f"report-{uuid.uuid4().hex}.json"
    args = parser.parse_args([deployment.provider, "--kind", kind.value, "--report", str(report)])
    out = io.StringIO()
    code = await reconcile_command.main(
        args, deployment.sync, deployment.crud, out, Progress(enabled=False), own_database=False
    )
    assert code == 0, out.getvalue()
    counts: dict[str, Any] = json.loads(await asyncio.to_thread(report.read_text))["counts"]
    return counts


async def reconcile_state(deployment: Deployment, kind: EntityKind) -> dict[str, Any]:
    """Everything a reconcile may write, as a user or the other services would read it."""
    model = ENTITIES[kind].model
    entities = await model.all().order_by("id").values_list("id", "version", "updated_at")
    links = (
        await ExternalLink.filter(provider=deployment.provider, entity=kind.value)
        .order_by("id")
        .values_list("external_id", "entity_id", "updated_at", "shadow")
    )
    return {
        "entities": entities,
        "links": links,
        "outbox": await OutboxEvent.all().count(),
        "inbox": await InboxEntry.all().count(),
    }


@asynccontextmanager
async def provider_side(deployment: Deployment) -> AsyncIterator[Sources]:
    async with plugin(deployment.provider).repair(deployment.sync) as sources:
        yield sources


async def test_reconcile_links_imports_pushes_and_a_rerun_changes_nothing(
    deployment: Deployment, kind: EntityKind, tmp_path: Path
) -> None:
    harness = deployment.harness
    # Before twoway: an object only at the provider, an entity only here and, where the kind
    # has a match key (a customer's email), one on both sides.
    sample = {n: body_flat(kind, harness.sample(kind, n)) for n in (10, 12)}
    only_there = await harness.create_remote(kind, sample[10], notify=False)
    only_here = await local_entity(kind, harness.sample(kind, 11))
    pairs = 1 if KINDS[kind].state.match_fields else 0
    if pairs:
        both_here = await local_entity(kind, harness.sample(kind, 12))
        both_there = await harness.create_remote(kind, sample[12], notify=False)
    await deployment.quiet()

    first = await reconcile(deployment, kind, tmp_path)

    wanted = {"linked": pairs, "imported": 1, "pushed": 1, "ambiguous": 0, "failed": 0}
    assert {k: first[k] for k in wanted} == wanted, first
    entities = await deployment.entities(kind)
    assert len(entities) == 2 + pairs  # nothing duplicated here
    for entity in entities:
        synced = await deployment.until_synced(kind, entity["id"])
        await deployment.quiet()
        await deployment.assert_agree(kind, synced)
    by_external = {deployment.sync_of(e)["external_id"]: e["id"] for e in entities}
    assert only_there in by_external  # imported
    assert only_here in by_external.values()  # pushed: made at the provider
    if pairs:
        assert by_external[both_there] == both_here  # linked: kept its id
    writes = await deployment.harness.writes()
    before = await reconcile_state(deployment, kind)

    again = await reconcile(deployment, kind, tmp_path)

    everything = 2 + pairs
    wanted = {"linked": everything, "in_step": everything, "imported": 0, "pushed": 0,
              "ambiguous": 0, "failed": 0}  # fmt: skip
    assert {k: again[k] for k in wanted} == wanted, again
    quiet = await deployment.quiet()
    assert await reconcile_state(deployment, kind) == before  # not one row touched
    assert quiet.writes == writes  # nor anything at the provider


async def test_catch_up_delivers_what_no_notification_told(
    deployment: Deployment, kind: EntityKind
) -> None:
    harness = deployment.harness
    changed = await deployment.create(kind, harness.sample(kind, 20))
    deleted = await deployment.create(kind, harness.sample(kind, 21))
    change = harness.change(kind, 20)
    bus = AmqpBus(deployment.crud.amqp_url.get_secret_value(), deployment.crud.retry_delays_ms)
    await bus.connect()
    try:
        async with provider_side(deployment) as sources:
            catch_up = CatchUp(sources.events, publisher(bus), interval_s=3600)
            assert await catch_up.once() == 0  # a first pass starts from the newest event

            # Changes whose notifications never arrive.
            external_id = deployment.sync_of(changed)["external_id"]
            await harness.edit_remote(kind, external_id, change, notify=False)
            new = harness.sample(kind, 22)
            made = await harness.create_remote(kind, body_flat(kind, new), notify=False)
            gone = deployment.sync_of(deleted)["external_id"]
            await harness.delete_remote(kind, gone, notify=False)
            await deployment.quiet()
            assert len(await deployment.entities(kind)) == 2  # the app heard of none
            assert (await deployment.entity(kind, changed["id"]) or {})["version"] == 1

            await catch_up.once()
    finally:
        await bus.close()

    async def arrived() -> bool:
        here = await deployment.entity(kind, changed["id"])
        listed = {deployment.sync_of(e)["external_id"] for e in await deployment.entities(kind)}
        return bool(
            here is not None
            and all(app_flat(kind, here)[p] == v for p, v in change.items())
            and made in listed
            and gone not in listed
        )

    assert await eventually(arrived, 15, what="the missed changes in the app")
    await deployment.quiet()
    for entity in await deployment.entities(kind):
        await deployment.assert_agree(kind, entity)
    assert await deployment.entity(kind, deleted["id"]) is None
    (imported,) = [e for e in await deployment.entities(kind) if e["id"] != changed["id"]]
    sent = body_flat(kind, new)
    assert {p: app_flat(kind, imported).get(p) for p in sent} == sent


async def test_the_audit_repairs_drift_so_both_sides_agree(
    deployment: Deployment, kind: EntityKind
) -> None:
    harness = deployment.harness
    entity = await deployment.create(kind, harness.sample(kind, 30))
    change = harness.change(kind, 30)
    await harness.drift(kind, deployment.sync_of(entity)["external_id"], change)
    await deployment.quiet()
    assert (await deployment.entity(kind, entity["id"]) or {})["version"] == 1  # nothing told

    async with provider_side(deployment) as sources:
        target = app_side(deployment.crud, deployment.provider)
        audit = Audit(sources.objects, target, kind, period_s=1, max_rate=100)
        await audit.step()
    await deployment.quiet()

    repaired = await deployment.until_synced(kind, entity["id"])
    assert repaired["version"] == 2
    assert {p: app_flat(kind, repaired)[p] for p in change} == change
    await deployment.assert_agree(kind, repaired)
