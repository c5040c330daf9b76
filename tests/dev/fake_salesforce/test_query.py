"""The fake Salesforce's SOQL subset, ``queryAll`` and getDeleted, in Salesforce's shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.fakes.salesforce_fake import SalesforceFake

FIELDS = "Id, Email, IsDeleted, SystemModstamp"


async def soql(api: httpx.AsyncClient, text: str, *, every: bool = False,
               batch: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Every row of the query, following ``nextRecordsUrl`` while ``done`` is false."""
    headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
    response = await api.get("/queryAll" if every else "/query", params={"q": text},
                             headers=headers)  # fmt: skip
    rows: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["records"])
        if body["done"]:
            assert "nextRecordsUrl" not in body
            return rows
        url = str(body["nextRecordsUrl"])
        assert url.startswith("/services/data/v60.0/query/")
        response = await api.get(str(api.base_url.copy_with(path=url)), headers=headers)


async def test_paging_on_systemmodstamp_with_a_tie_break_on_id(
    salesforce_fake: SalesforceFake, api: httpx.AsyncClient
) -> None:
    made = [await salesforce_fake.create(LastName=f"N{i}", Email=f"n{i}@example.com")
            for i in range(450)]  # fmt: skip
    ordered = sorted(made, key=lambda c: (c["SystemModstamp"], c["Id"]))
    text = f"SELECT {FIELDS} FROM Contact ORDER BY SystemModstamp, Id"
    first = (await api.get("/query", params={"q": text},
                           headers={"Sforce-Query-Options": "batchSize=200"})).json()  # fmt: skip
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["records"][0]["attributes"]["type"] == "Contact"
    rows = await soql(api, text, batch=200)
    assert [r["Id"] for r in rows] == [c["Id"] for c in ordered]

    middle = ordered[99]
    after = (
        f"SELECT {FIELDS} FROM Contact WHERE SystemModstamp > {middle['SystemModstamp']} "
        f"OR (SystemModstamp = {middle['SystemModstamp']} AND Id > '{middle['Id']}') "
        "ORDER BY SystemModstamp, Id LIMIT 120"
    )
    page = await soql(api, after)
    assert [r["Id"] for r in page] == [c["Id"] for c in ordered[100:220]]
    by_id = await soql(api, f"SELECT Id FROM Contact WHERE Id > '{ordered[0]['Id']}' ORDER BY Id")
    assert [r["Id"] for r in by_id] == sorted(c["Id"] for c in made if c["Id"] > ordered[0]["Id"])


async def test_query_all_returns_deleted_rows_and_get_deleted_lists_them(
    salesforce_fake: SalesforceFake, api: httpx.AsyncClient
) -> None:
    kept = await salesforce_fake.create(LastName="Kept")
    gone = await salesforce_fake.create(LastName="Gone", Email="gone@example.com")
    await salesforce_fake.delete(gone["Id"], notify=False)
    text = f"SELECT {FIELDS} FROM Contact ORDER BY SystemModstamp, Id"
    live = await soql(api, text)
    assert [r["Id"] for r in live] == [kept["Id"]]
    every = await soql(api, text, every=True)
    assert [(r["Id"], r["IsDeleted"]) for r in every] == [(kept["Id"], False), (gone["Id"], True)]
    assert every[1]["SystemModstamp"] > gone["SystemModstamp"]  # a delete is a change
    only_deleted = await soql(api, "SELECT Id FROM Contact WHERE IsDeleted = true", every=True)
    assert [r["Id"] for r in only_deleted] == [gone["Id"]]

    now = datetime.now(UTC)
    window = {"start": (now - timedelta(hours=1)).isoformat(),
              "end": (now + timedelta(minutes=2)).isoformat()}  # fmt: skip
    listed = await api.get("/sobjects/Contact/deleted/", params=window)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert set(body) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    covered = datetime.fromisoformat(body["latestDateCovered"].replace("Z", "+00:00"))
    assert covered.second == 0 and covered <= now  # whole minutes, never the future
    deleted_at = datetime.fromisoformat(every[1]["SystemModstamp"].replace("Z", "+00:00"))
    expected = [{"id": gone["Id"], "deletedDate": every[1]["SystemModstamp"]}]
    assert body["deletedRecords"] == (expected if deleted_at <= covered else [])
    old = {"start": (now - timedelta(days=31)).isoformat(), "end": now.isoformat()}
    too_old = await api.get("/sobjects/Contact/deleted/", params=old)
    assert too_old.status_code == 400
    assert too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


async def test_malformed_queries_are_answered_as_salesforce_does(api: httpx.AsyncClient) -> None:
    cases = {
        "SELECT Id FROM Contact WHERE": "MALFORMED_QUERY",
        "SELECT Nope__x FROM Contact": "INVALID_FIELD",
        "SELECT Id FROM Account": "INVALID_TYPE",
        "SELECT Id FROM Contact LIMIT": "MALFORMED_QUERY",
    }
    for text, code in cases.items():
        response = await api.get("/query", params={"q": text})
        assert response.status_code == 400, text
        assert response.json()[0]["errorCode"] == code, text
    stale = await api.get("/query/01gFKnothing-200")
    assert stale.status_code == 400
    assert stale.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
