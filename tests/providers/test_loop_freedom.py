"""Loop freedom: after one change the writes at the provider stop growing. An API update makes
exactly the one write it needs; a person's edit at the provider makes none back."""

from __future__ import annotations

import asyncio

import pytest

from services.crud.entities import ENTITIES
from shared.kinds import EntityKind
from tests.providers.deployment import Deployment

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

STILL_S = 1.0


async def test_an_api_update_makes_one_write_and_then_none(
    deployment: Deployment, kind: EntityKind
) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 6))
    before = await deployment.harness.writes()

    change = deployment.harness.change(kind, 6)
    patched = await deployment.api.patch(f"{ENTITIES[kind].path}/{entity['id']}", json=change)
    assert patched.status_code == 200, patched.text
    await deployment.until_synced(kind, entity["id"])
    quiet = await deployment.quiet()

    assert quiet.writes == before + 1
    await asyncio.sleep(STILL_S)  # scenario: a loop would keep moving; for 1 s nothing may
    assert await deployment.snapshot() == quiet
    final = await deployment.entity(kind, entity["id"])
    assert final is not None and final["version"] == 2
    await deployment.assert_agree(kind, final)


async def test_an_edit_at_the_provider_makes_no_write_back(
    deployment: Deployment, kind: EntityKind
) -> None:
    entity = await deployment.create(kind, deployment.harness.sample(kind, 7))
    before = await deployment.harness.writes()
    change = deployment.harness.change(kind, 7)

    await deployment.harness.edit_remote(kind, deployment.sync_of(entity)["external_id"], change)

    await deployment.until_holds(kind, entity["id"], change)
    quiet = await deployment.quiet()
    assert quiet.writes == before
    await asyncio.sleep(STILL_S)  # scenario: a loop would keep moving; for 1 s nothing may
    assert await deployment.snapshot() == quiet
    final = await deployment.entity(kind, entity["id"])
    assert final is not None and final["version"] == 2
    await deployment.assert_agree(kind, final)
