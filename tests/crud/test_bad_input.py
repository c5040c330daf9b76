"""Crafted and careless input: each is a 4xx with a JSON error naming the field, and nothing is
written (no customer row, no outbox event)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.crud.test_api import ADA, create, outbox_count

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

JSON = {"content-type": "application/json"}


async def customer_count(crud: httpx.AsyncClient) -> int:
    return len((await crud.get("/customers", params={"limit": "200"})).json()["data"])


async def assert_refused(
    response: httpx.Response, status: int, field: str | None, crud: httpx.AsyncClient, rows: int
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    if field is not None:  # the field itself, or one inside it (metadata.<key>)
        assert any(f == field or f.startswith(f"{field}.") for f in error["fields"]), error
    assert await customer_count(crud) == rows
    assert await outbox_count() == rows


def metadata(**overrides: Any) -> dict[str, Any]:
    return {**ADA, "metadata": overrides}


CREATE_BODIES: list[tuple[str, bytes | dict[str, Any], int, str | None]] = [
    ("5,000-digit number", b'{"name": ' + b"9" * 5000 + b', "email": "a@x.io"}', 400, None),
    ("5,000-digit float", b'{"name": 1' + b"0" * 5000 + b'.5, "email": "a@x.io"}', 422, "name"),
    # Under the 64 KiB body limit, so it is the parser that meets them.
    ("60,000 nested brackets", b"[" * 60_000, 400, None),
    ("12,000 nested objects", b'{"a":' * 12_000 + b"1" + b"}" * 1000, 400, None),
    ("NaN", b'{"name": NaN, "email": "a@x.io"}', 400, None),
    (
        "lone surrogate value",
        b'{"name": "A", "email": "a@x.io", "metadata": {"k": "\\udfff"}}',
        422,
        "metadata.k",
    ),
    (
        "lone surrogate key",
        b'{"name": "A", "email": "a@x.io", "metadata": {"\\ud800": "v"}}',
        422,
        "metadata",
    ),
    ("lone surrogate name", b'{"name": "\\udfff", "email": "a@x.io"}', 422, "name"),
    ("phone of 21 characters", {**ADA, "phone": "+1 555 000 000 000 00"}, 422, "phone"),
    ("50 metadata keys", metadata(**{f"k{i}": "v" for i in range(50)}), 422, "metadata"),
    ("key twoway_id", metadata(twoway_id="mine"), 422, "metadata.twoway_id"),
    ("empty metadata value", metadata(plan=""), 422, "metadata.plan"),
    ("41-character key", metadata(**{"k" * 41: "v"}), 422, "metadata"),
    ("501-character value", metadata(plan="v" * 501), 422, "metadata.plan"),
    ("key with brackets", metadata(**{"a[b]": "v"}), 422, "metadata.a[b]"),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [case[1:] for case in CREATE_BODIES],
    ids=[case[0] for case in CREATE_BODIES],
)
async def test_crafted_create_bodies(
    crud: httpx.AsyncClient, body: bytes | dict[str, Any], status: int, field: str | None
) -> None:
    if isinstance(body, dict):
        response = await crud.post("/customers", json=body)
    else:
        response = await crud.post("/customers", content=body, headers=JSON)
    await assert_refused(response, status, field, crud, rows=0)


async def test_limits_themselves_are_accepted(crud: httpx.AsyncClient) -> None:
    at_limits = {
        **ADA,
        "phone": "+1 555 000 000 00 00",
        "metadata": {f"{i:0>40}": "v" * 500 for i in range(49)},
    }
    created = await create(crud, **{k: v for k, v in at_limits.items() if k != "name"})
    assert len(created["metadata"]) == 49 and len(created["phone"]) == 20


@pytest.mark.parametrize(
    ("method", "tag"),
    [
        ("PATCH", '"²"'),
        ("DELETE", '"²"'),
        ("PATCH", '"' + "9" * 5000 + '"'),
        ("DELETE", '"' + "1" * 5000 + '"'),
        ("DELETE", "garbage"),
        ("DELETE", '"-1"'),
    ],
)
async def test_crafted_if_match(crud: httpx.AsyncClient, method: str, tag: str) -> None:
    created = await create(crud)
    response = await crud.request(
        method,
        f"/customers/{created['id']}",
        json={"name": "Changed"} if method == "PATCH" else None,
        headers={"If-Match": tag.encode()},
    )
    assert response.status_code == 412, response.text
    assert "If-Match" in response.json()["error"]["fields"]
    assert (await crud.get(f"/customers/{created['id']}")).json() == created
    assert await outbox_count() == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "²"}, "limit"),
        ({"limit": "9" * 4400}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "zzz"}, "cursor"),
        ({"cursor": "' OR 1=1 --"}, "cursor"),
        ({"cursor": "0" * 5000}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"sync_status": "lost"}, "sync_status"),
    ],
)
async def test_crafted_list_parameters(
    crud: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await crud.get("/customers", params=params)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


async def test_ids_of_a_form_never_handed_out_are_404(crud: httpx.AsyncClient) -> None:
    created = await create(crud)
    for bad in ("nope", "0" * 5000, "%ED%B3%BF", created["id"].upper()):
        assert (await crud.get(f"/customers/{bad}")).status_code == 404
        patched = await crud.patch(f"/customers/{bad}", json={"name": "X"})
        assert patched.status_code == 404
        deleted = await crud.delete(f"/customers/{bad}", headers={"If-Match": "*"})
        assert deleted.status_code == 404
    assert await outbox_count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "1" * 21},
        {"metadata": {"twoway_id": "x"}},
        {"metadata": {"k": ""}},
        {"metadata": {f"k{i}": "v" for i in range(50)}},
    ],
)
async def test_patch_follows_the_same_limits(crud: httpx.AsyncClient, body: dict[str, Any]) -> None:
    created = await create(crud)
    response = await crud.patch(f"/customers/{created['id']}", json=body)
    assert response.status_code == 422, response.text
    assert next(iter(body)) in " ".join(response.json()["error"]["fields"])
    assert (await crud.get(f"/customers/{created['id']}")).json() == created
    assert await outbox_count() == 1
