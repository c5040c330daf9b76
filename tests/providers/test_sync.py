"""The contract, both ways: what the app's API does reaches the provider, and what a person
does at the provider reaches the app, for every kind the provider syncs."""

from __future__ import annotations

import pytest

from services.crud.entities import ENTITIES
from shared.kinds import EntityKind
from tests.providers.deployment import Deployment, app_flat, body_flat
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def test_an_api_create_makes_the_object_at_the_provider(
    deployment: Deployment, kind: EntityKind
) -> None:
    sample = deployment.harness.sample(kind, 1)

    entity = await deployment.create(kind, sample)

    assert entity["version"] == 1  # the provider's echo made no new version
    sent = body_flat(kind, sample)
    assert {p: app_flat(kind, entity).get(p) for p in sent} == sent
    await deployment.assert_agree(kind, entity)


async def test_an_api_update_reaches_the_provider(deployment: Deployment, kind: EntityKind) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 2))
    change = deployment.harness.change(kind, 2)

    patched = await deployment.api.patch(f"{ENTITIES[kind].path}/{entity['id']}", json=change)

    assert patched.status_code == 200, patched.text
    entity = await deployment.until_synced(kind, entity["id"])
    await deployment.quiet()
    assert entity["version"] == 2
    assert {p: app_flat(kind, entity)[p] for p in change} == change
    await deployment.assert_agree(kind, entity)


async def test_an_api_delete_removes_the_object_at_the_provider(
    deployment: Deployment, kind: EntityKind
) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 3))
    external_id = deployment.sync_of(entity)["external_id"]

    await deployment.delete(kind, entity)

    async def gone() -> bool:
        return await deployment.harness.remote(kind, external_id) is None

    assert await eventually(gone, 15, what="the object gone at the provider")
    await deployment.quiet()
    assert await deployment.entity(kind, entity["id"]) is None
    await deployment.assert_no_dead_letters()


async def test_a_change_at_the_provider_reaches_the_app(
    deployment: Deployment, kind: EntityKind
) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 4))
    change = deployment.harness.change(kind, 4)

    await deployment.harness.edit_remote(kind, deployment.sync_of(entity)["external_id"], change)

    await deployment.until_holds(kind, entity["id"], change)
    await deployment.quiet()
    entity_now = await deployment.entity(kind, entity["id"])
    assert entity_now is not None and entity_now["version"] == 2
    await deployment.assert_agree(kind, entity_now)


async def test_a_delete_at_the_provider_reaches_the_app(
    deployment: Deployment, kind: EntityKind
) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 5))

    await deployment.harness.delete_remote(kind, deployment.sync_of(entity)["external_id"])

    async def gone() -> bool:
        return await deployment.entity(kind, entity["id"]) is None

    assert await eventually(gone, 15, what="the entity gone in the app")
    await deployment.quiet()
    await deployment.assert_no_dead_letters()
