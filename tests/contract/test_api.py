"""The CRUD contract and the outbox events of every entity kind, on the real MariaDB and
RabbitMQ."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from services.crud.entities import ENTITIES
from tests.conftest import Broker
from tests.contract.cases import CASES, KindCase

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(ENTITIES), "a new entity kind needs its case in tests/contract"


async def test_create_get_patch_delete(crud: httpx.AsyncClient, case: KindCase) -> None:
    created = await crud.post(case.path, json=case.create(1))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["etag"] == '"1"' and body["version"] == 1
    assert all(body[k] == v for k, v in case.create(1).items())
    assert body["sync"]["stripe"]["status"] == "pending"
    one = f"{case.path}/{body['id']}"
    assert (await crud.get(one)).json()["id"] == body["id"]

    field = case.edits[0]
    value = case.value(field, "1")
    patched = await crud.patch(one, json={field: value}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert (patched.json()[field], patched.json()["version"]) == (value, 2)
    same = await crud.patch(one, json={field: value})
    assert same.json()["version"] == 2  # a change to nothing keeps the version
    stale = await crud.patch(one, json={field: "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412

    assert (await crud.delete(one)).status_code == 428
    assert (await crud.delete(one, headers={"If-Match": '"1"'})).status_code == 412
    assert (await crud.delete(one, headers={"If-Match": '"2"'})).status_code == 204
    assert (await crud.get(one)).status_code == 404
    assert (await crud.get(f"{case.path}/not-an-id")).status_code == 404


async def test_bad_bodies_are_422_naming_the_field_and_write_nothing(
    crud: httpx.AsyncClient, case: KindCase
) -> None:
    for body, field in case.invalid:
        response = await crud.post(case.path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["error"]["fields"], (body, response.json())
    assert (await crud.get(case.path)).json()["data"] == []


async def test_lists_page_by_cursor_and_filter_by_sync_status(
    crud: httpx.AsyncClient, case: KindCase
) -> None:
    ids = [(await crud.post(case.path, json=case.create(n))).json()["id"] for n in range(3)]
    first = (await crud.get(case.path, params={"limit": 2})).json()
    assert [e["id"] for e in first["data"]] == ids[:2]
    rest = (await crud.get(case.path, params={"cursor": first["next_cursor"]})).json()
    assert [e["id"] for e in rest["data"]] == ids[2:] and rest["next_cursor"] is None
    pending = await crud.get(case.path, params={"sync_status": "pending", "provider": "stripe"})
    assert [e["id"] for e in pending.json()["data"]] == ids
    assert (await crud.get(case.path, params={"sync_status": "synced"})).json()["data"] == []
    assert (await crud.get(case.path, params={"cursor": "garbage"})).status_code == 422


async def test_events_name_the_paths_they_changed(
    crud: httpx.AsyncClient, broker: Broker, case: KindCase
) -> None:
    tap = await broker.tap()
    created = (await crud.post(case.path, json=case.create(1))).json()
    one = f"{case.path}/{created['id']}"
    field = case.edits[0]
    await crud.patch(one, json={field: case.value(field, "2"), "metadata": {"plan": "pro"}})
    await crud.delete(one, headers={"If-Match": '"2"'})
    events: list[dict[str, Any]] = [json.loads(m.body) for m in await tap.collect(3)]
    kind = case.kind.value
    assert [(e["type"], e["version"], e["origin"]) for e in events] == [
        (f"{kind}.created", 1, "app"),
        (f"{kind}.updated", 2, "app"),
        (f"{kind}.deleted", 3, "app"),
    ]
    assert set(events[0]["changed"]) >= set(case.create(1))
    assert events[1]["changed"] == sorted([field, "metadata.plan"])
    assert events[1]["data"][field] == case.value(field, "2")
    assert events[2]["changed"] == [] and events[2]["data"]["id"] == created["id"]
