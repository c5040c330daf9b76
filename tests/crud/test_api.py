"""The customer HTTP API on a real MariaDB: the contract users code against."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from tortoise import connections

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

ADA = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "metadata": {"plan": "pro"},
}


async def outbox_count() -> int:
    rows = await connections.get("default").execute_query_dict("SELECT COUNT(*) AS n FROM outbox")
    return int(rows[0]["n"])


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/customers", json={**ADA, **overrides})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_get_update_delete_round_trip(crud: httpx.AsyncClient) -> None:
    created = await create(crud)
    assert created["version"] == 1
    assert created["name"] == "Ada Lovelace" and created["metadata"] == {"plan": "pro"}
    got = await crud.get(f"/customers/{created['id']}")
    assert got.status_code == 200 and got.json() == created
    assert got.headers["etag"] == '"1"'

    patched = await crud.patch(f"/customers/{created['id']}", json={"phone": None, "name": "Ada"})
    assert patched.status_code == 200
    assert patched.json()["version"] == 2 and patched.json()["phone"] is None
    assert patched.json()["email"] == ADA["email"]
    assert patched.headers["etag"] == '"2"'

    unguarded = await crud.delete(f"/customers/{created['id']}")
    assert unguarded.status_code == 428
    assert unguarded.json()["error"]["code"] == "precondition_required"
    deleted = await crud.delete(f"/customers/{created['id']}", headers={"If-Match": '"2"'})
    assert deleted.status_code == 204
    assert (await crud.get(f"/customers/{created['id']}")).status_code == 404
    gone = await crud.delete(f"/customers/{created['id']}", headers={"If-Match": "*"})
    assert gone.status_code == 404


async def test_patch_that_changes_nothing_keeps_the_version_and_writes_no_event(
    crud: httpx.AsyncClient,
) -> None:
    created = await create(crud)
    response = await crud.patch(f"/customers/{created['id']}", json={"name": ADA["name"]})
    assert response.status_code == 200 and response.json()["version"] == 1
    assert await outbox_count() == 1


async def test_if_match_guards_against_lost_updates(crud: httpx.AsyncClient) -> None:
    created = await create(crud)
    url = f"/customers/{created['id']}"
    ok = await crud.patch(url, json={"name": "B"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = await crud.patch(url, json={"name": "C"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    stale_delete = await crud.delete(url, headers={"If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert (await crud.get(url)).json()["name"] == "B"
    assert (await crud.delete(url, headers={"If-Match": '"2"'})).status_code == 204


async def test_list_pages_in_a_stable_order(crud: httpx.AsyncClient) -> None:
    ids = [(await create(crud, email=f"u{i}@example.com"))["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await crud.get("/customers", params=params)).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


BAD_CREATE = [
    # (body, content type, status, code, field named)
    ({"email": "a@example.com"}, "application/json", 422, "validation_error", "name"),
    ({"name": "", "email": "a@example.com"}, "application/json", 422, "validation_error", "name"),
    (
        {"name": "   ", "email": "a@example.com"},
        "application/json",
        422,
        "validation_error",
        "name",
    ),
    ({"name": "A", "email": "not-an-email"}, "application/json", 422, "validation_error", "email"),
    ({"name": "A"}, "application/json", 422, "validation_error", "email"),
    ({"name": 5, "email": "a@example.com"}, "application/json", 422, "validation_error", "name"),
    (
        {"name": "A", "email": "a@example.com", "phone": 12},
        "application/json",
        422,
        "validation_error",
        "phone",
    ),
    (
        {"name": "A", "email": "a@example.com", "metadata": {"k": 1}},
        "application/json",
        422,
        "validation_error",
        "metadata.k",
    ),
    (
        {"name": "A", "email": "a@example.com", "metadata": ["x"]},
        "application/json",
        422,
        "validation_error",
        "metadata",
    ),
    (
        {"name": "A", "email": "a@example.com", "metadata": {f"k{i}": "v" for i in range(51)}},
        "application/json",
        422,
        "validation_error",
        "metadata",
    ),
    (
        {"name": "A", "email": "a@example.com", "admin": True},
        "application/json",
        422,
        "validation_error",
        "admin",
    ),
    (
        {"name": "A" * 201, "email": "a@example.com"},
        "application/json",
        422,
        "validation_error",
        "name",
    ),
    ([1, 2], "application/json", 422, "validation_error", "body"),
    ({"name": "A", "email": "a@example.com"}, "text/plain", 415, "unsupported_media_type", None),
]


@pytest.mark.parametrize(("body", "ctype", "status", "code", "field"), BAD_CREATE)
async def test_bad_create_input_is_refused_and_writes_nothing(
    crud: httpx.AsyncClient,
    body: Any,
    ctype: str,
    status: int,
    code: str,
    field: str | None,
) -> None:
    response = await crud.post(
        "/customers", content=json.dumps(body), headers={"content-type": ctype}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if field is not None:
        assert field in error["fields"], error
    assert (await crud.get("/customers")).json()["data"] == []
    assert await outbox_count() == 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "malformed_json"),
        (b"\xff\xfe", 400, "malformed_json"),
        (b'{"name": "' + b"x" * (65 * 1024) + b'"}', 413, "payload_too_large"),
    ],
)
async def test_malformed_and_oversized_bodies(
    crud: httpx.AsyncClient, raw: bytes, status: int, code: str
) -> None:
    for method in ("POST", "PATCH"):
        created = method == "PATCH" and await create(crud, email=f"{code}@example.com")
        url = f"/customers/{created['id']}" if created else "/customers"
        response = await crud.request(
            method, url, content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (method, response.text)
        assert response.json()["error"]["code"] == code


async def test_bad_patch_input(crud: httpx.AsyncClient) -> None:
    created = await create(crud)
    url = f"/customers/{created['id']}"
    for body, field in [
        ({"name": None}, "name"),
        ({"email": None}, "email"),
        ({"email": "nope"}, "email"),
        ({"version": 9}, "version"),
        ({"metadata": None}, "metadata"),
    ]:
        response = await crud.patch(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["error"]["fields"]
    assert (await crud.get(url)).json() == created
    bad_etag = await crud.patch(url, json={"name": "X"}, headers={"If-Match": "garbage"})
    assert bad_etag.status_code == 412


async def test_duplicate_email_is_409_and_changes_nothing(crud: httpx.AsyncClient) -> None:
    first = await create(crud)
    dup = await crud.post("/customers", json={**ADA, "name": "Other"})
    assert dup.status_code == 409 and "email" in dup.json()["error"]["fields"]
    other = await create(crud, email="other@example.com")
    clash = await crud.patch(f"/customers/{other['id']}", json={"email": ADA["email"]})
    assert clash.status_code == 409
    assert (await crud.get(f"/customers/{other['id']}")).json()["version"] == 1
    assert (await crud.get(f"/customers/{first['id']}")).json() == first
    assert await outbox_count() == 2


async def test_a_duplicate_among_concurrent_creates_fails_alone(crud: httpx.AsyncClient) -> None:
    # Creates that arrive together commit together; the one that cannot must not take the
    # others down with it, nor leave an event behind.
    await create(crud)
    answers = await asyncio.gather(
        *(crud.post("/customers", json={**ADA, "email": f"c{i}@example.com"}) for i in range(12)),
        crud.post("/customers", json={**ADA, "name": "Other"}),
        *(crud.post("/customers", json={**ADA, "email": f"d{i}@example.com"}) for i in range(12)),
    )
    assert [a.status_code for a in answers] == [201] * 12 + [409] + [201] * 12
    listed = (await crud.get("/customers", params={"limit": 100})).json()["data"]
    assert len(listed) == 25
    assert await outbox_count() == 25


async def test_unknown_routes_methods_and_ids(crud: httpx.AsyncClient) -> None:
    assert (await crud.get("/customers/nope")).status_code == 404
    assert (await crud.patch("/customers/nope", json={"name": "x"})).status_code == 404
    assert (await crud.get("/nothing")).json()["error"]["code"] == "not_found"
    put = await crud.put("/customers", json={})
    assert put.status_code == 405 and put.json()["error"]["code"] == "method_not_allowed"
    for bad in ("0", "-1", "abc", "201"):
        response = await crud.get("/customers", params={"limit": bad})
        assert response.status_code == 422 and "limit" in response.json()["error"]["fields"]


async def test_health_and_readiness(crud: httpx.AsyncClient) -> None:
    assert (await crud.get("/healthz")).status_code == 200
    ready = await crud.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
