"""The fake Salesforce's token endpoint and Contact REST routes, in Salesforce's shapes."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.dev.fake_salesforce.conftest import API, sign_in
from tests.fakes.salesforce_fake import SalesforceFake

CONTACT = "/sobjects/Contact"
UPSERT = f"{CONTACT}/Twoway_Id__c"


def codes(response: httpx.Response) -> list[str]:
    return [e["errorCode"] for e in response.json()]


async def test_client_credentials_give_a_token_for_the_fakes_own_instance(
    salesforce_fake: SalesforceFake,
) -> None:
    async with httpx.AsyncClient() as http:
        form = {"grant_type": "client_credentials", "client_id": salesforce_fake.client_id,
                "client_secret": salesforce_fake.client_secret}  # fmt: skip
        response = await http.post(f"{salesforce_fake.url}/services/oauth2/token", data=form)
        assert response.status_code == 200
        body = response.json()
        assert body["instance_url"] == salesforce_fake.url
        assert body["token_type"] == "Bearer"
        assert {"access_token", "issued_at", "signature"} <= set(body)
        wrong = await http.post(
            f"{salesforce_fake.url}/services/oauth2/token", data={**form, "client_secret": "no"}
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_client"
        unsigned = await http.get(f"{salesforce_fake.url}{API}{CONTACT}/003FK0000000000AAA")
        assert unsigned.status_code == 401
        assert codes(unsigned) == ["INVALID_SESSION_ID"]
    # The secret is never kept in the request log.
    assert all(r["body"] is None for r in await salesforce_fake.requests())


async def test_create_get_update_delete(api: httpx.AsyncClient) -> None:
    created = await api.post(f"{CONTACT}/", json={"FirstName": "Ada", "LastName": "Lovelace"})
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert created.json() == {"id": contact_id, "success": True, "errors": []}
    assert re.fullmatch(r"003[A-Za-z0-9]{15}", contact_id)

    got = (await api.get(f"{CONTACT}/{contact_id}")).json()
    assert got["attributes"] == {"type": "Contact", "url": f"{API}{CONTACT}/{contact_id}"}
    assert (got["FirstName"], got["LastName"], got["Email"]) == ("Ada", "Lovelace", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got["SystemModstamp"])
    limited = (await api.get(f"{CONTACT}/{contact_id}", params={"fields": "Id,Email"})).json()
    assert set(limited) == {"attributes", "Id", "Email"}

    updated = await api.patch(f"{CONTACT}/{contact_id}", json={"Email": "ada@example.com"})
    assert updated.status_code == 204
    after = (await api.get(f"{CONTACT}/{contact_id}")).json()
    assert after["Email"] == "ada@example.com"
    assert after["SystemModstamp"] > got["SystemModstamp"]

    assert (await api.delete(f"{CONTACT}/{contact_id}")).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        gone = await api.request(method, f"{CONTACT}/{contact_id}", json={"Email": None})
        assert (gone.status_code, codes(gone)) == (404, ["ENTITY_IS_DELETED"])
    unknown = await api.get(f"{CONTACT}/003FK0000000000AAA")
    assert (unknown.status_code, codes(unknown)) == (404, ["NOT_FOUND"])


async def test_upsert_by_external_id(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    created = await api.patch(f"{UPSERT}/cus_1", json={"LastName": "Lovelace"})
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert created.json() == {"id": contact_id, "success": True, "errors": [], "created": True}
    updated = await api.patch(f"{UPSERT}/cus_1", json={"FirstName": "Ada"})
    assert updated.status_code == 200
    assert updated.json() == {"id": contact_id, "success": True, "errors": [], "created": False}
    got = (await api.get(f"{UPSERT}/cus_1")).json()
    assert (got["Id"], got["FirstName"], got["Twoway_Id__c"]) == (contact_id, "Ada", "cus_1")

    only = await api.patch(f"{UPSERT}/cus_2", params={"updateOnly": "true"}, json={"LastName": "X"})
    assert (only.status_code, codes(only)) == (404, ["NOT_FOUND"])
    assert await salesforce_fake.contact_by_local_id("cus_2") is None

    for field in ("Id", "Twoway_Id__c"):
        bad = await api.patch(f"{UPSERT}/cus_1", json={field: "x", "LastName": "Y"})
        assert (bad.status_code, codes(bad)) == (400, ["INVALID_FIELD"])
    other_field = await api.patch(f"{CONTACT}/Other__c/cus_1", json={"LastName": "Y"})
    assert other_field.status_code == 404

    # Two Contacts with one value (a non-unique External ID field): 300, nothing written.
    await salesforce_fake.configure(external_id_unique=False)
    twin = await salesforce_fake.create(LastName="Twin", Twoway_Id__c="cus_1")
    ambiguous = await api.patch(f"{UPSERT}/cus_1", json={"LastName": "Z"})
    assert ambiguous.status_code == 300
    assert sorted(ambiguous.json()) == sorted(
        f"{API}{CONTACT}/{i}" for i in (contact_id, twin["Id"])
    )
    assert all(c["LastName"] != "Z" for c in await salesforce_fake.contacts())


async def test_the_external_id_is_unique(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    await api.patch(f"{UPSERT}/cus_1", json={"LastName": "Lovelace"})
    duplicate = await api.post(f"{CONTACT}/", json={"LastName": "B", "Twoway_Id__c": "cus_1"})
    assert (duplicate.status_code, codes(duplicate)) == (400, ["DUPLICATE_VALUE"])
    assert len(await salesforce_fake.contacts()) == 1


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"FirstName": "Ada"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": ""}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "L", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        ({"LastName": "L" * 81}, "STRING_TOO_LONG", ["LastName"]),
        ({"LastName": "L", "FirstName": "F" * 41}, "STRING_TOO_LONG", ["FirstName"]),
        ({"LastName": "L", "Email": "a" * 70 + "@example.com"}, "STRING_TOO_LONG", ["Email"]),
        ({"LastName": "L", "Phone": "1" * 41}, "STRING_TOO_LONG", ["Phone"]),
        ({"LastName": "L", "Shoe_Size__c": "44"}, "INVALID_FIELD", ["Shoe_Size__c"]),
        ({"LastName": "L", "Name": "N"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
    ],
)
async def test_validation_as_salesforce_answers_it(
    api: httpx.AsyncClient, body: dict[str, str], code: str, fields: list[str]
) -> None:
    response = await api.post(f"{CONTACT}/", json=body)
    assert response.status_code == 400
    [error] = response.json()
    assert (error["errorCode"], error["fields"]) == (code, fields)
    assert error["message"]


async def test_an_update_may_not_clear_the_last_name(api: httpx.AsyncClient) -> None:
    contact_id = (await api.post(f"{CONTACT}/", json={"LastName": "L"})).json()["id"]
    response = await api.patch(f"{CONTACT}/{contact_id}", json={"LastName": None})
    assert (response.status_code, codes(response)) == (400, ["REQUIRED_FIELD_MISSING"])


async def test_every_answer_tells_the_usage_and_the_allocation_is_enforced(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    await salesforce_fake.set_usage(used=7, allocation=9)
    first = await api.get(f"{UPSERT}/nobody")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=8/9"
    second = await api.get(f"{UPSERT}/nobody")
    assert second.headers["Sforce-Limit-Info"] == "api-usage=9/9"
    over = await api.post(f"{CONTACT}/", json={"LastName": "L"})
    assert (over.status_code, codes(over)) == (403, ["REQUEST_LIMIT_EXCEEDED"])
    assert over.headers["Sforce-Limit-Info"] == "api-usage=9/9"
    assert await salesforce_fake.contacts() == []
    await salesforce_fake.configure(allocation=100)
    assert (await api.post(f"{CONTACT}/", json={"LastName": "L"})).status_code == 201


async def test_faults_answer_instead_of_the_handler_count_times(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    await salesforce_fake.fault(503, "SERVER_UNAVAILABLE", count=2, method="PATCH")
    await salesforce_fake.fault(400, "UNABLE_TO_LOCK_ROW", path_prefix=f"{API}{CONTACT}/")
    statuses = []
    for _ in range(3):
        response = await api.patch(f"{UPSERT}/cus_1", json={"LastName": "L"})
        statuses.append(
            (response.status_code, codes(response)[0] if response.status_code >= 300 else None)
        )
    assert statuses == [
        (503, "SERVER_UNAVAILABLE"),
        (503, "SERVER_UNAVAILABLE"),
        (400, "UNABLE_TO_LOCK_ROW"),
    ]
    assert (await api.patch(f"{UPSERT}/cus_1", json={"LastName": "L"})).status_code == 201
    assert [r["status"] for r in await salesforce_fake.api_writes("cus_1")] == [503, 503, 400, 201]


async def test_a_hanging_fault_times_the_client_out(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    await salesforce_fake.fault(500, "UNKNOWN_EXCEPTION", hang_s=2.0)
    with pytest.raises(httpx.ReadTimeout):
        await api.get(f"{UPSERT}/cus_1", timeout=0.2)


async def test_expired_tokens_answer_invalid_session_id(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    assert (await api.get(f"{UPSERT}/nobody")).status_code == 404
    await salesforce_fake.expire_tokens()
    expired = await api.get(f"{UPSERT}/nobody")
    assert expired.status_code == 401
    assert expired.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]
    api.headers["Authorization"] = f"Bearer {await sign_in(salesforce_fake, api)}"
    assert (await api.get(f"{UPSERT}/nobody")).status_code == 404


async def test_api_writes_are_the_integration_users_and_human_edits_are_not(
    api: httpx.AsyncClient, salesforce_fake: SalesforceFake
) -> None:
    contact_id = (await api.patch(f"{UPSERT}/cus_1", json={"LastName": "L"})).json()["id"]
    assert (await salesforce_fake.contact(contact_id) or {})["LastModifiedById"] == (
        salesforce_fake.integration_user_id
    )
    edited = await salesforce_fake.edit(contact_id, Email="ada@example.com")
    assert edited["LastModifiedById"] == salesforce_fake.human_user_id
    await api.delete(f"{CONTACT}/{contact_id}")
    writes = await salesforce_fake.api_writes("cus_1")
    assert [(w["method"], w["status"]) for w in writes] == [("PATCH", 201), ("DELETE", 204)]
    assert await salesforce_fake.contacts() == []
    [deleted] = await salesforce_fake.contacts(include_deleted=True)
    assert deleted["IsDeleted"] is True
