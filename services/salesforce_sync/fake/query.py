"""SOQL queries and the deleted-records resource, under ``/services/data/vNN.0``:

- ``GET query?q=``: the query over live Contacts; ``GET queryAll?q=``: over deleted ones too
  (``IsDeleted`` true; the fake keeps them, Salesforce for about 15 days in the Recycle Bin);
- each answers ``{totalSize, done, records[, nextRecordsUrl]}``: ``done`` false means more
  rows wait at ``nextRecordsUrl`` (``GET query/<locator>``); batches hold 2,000 rows, or the
  ``batchSize`` (200 to 2,000) of the ``Sforce-Query-Options`` header;
- ``GET sobjects/Contact/deleted/?start=&end=`` (getDeleted): ``deletedRecords`` ``[{id,
  deletedDate}]`` deleted in ``[start, latestDateCovered]``, where ``latestDateCovered`` is
  ``end`` (at most now) down to the whole minute, as Salesforce answers; ``start`` must be
  within the last 30 days (else ``INVALID_REPLICATION_DATE``).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.salesforce_sync.fake import soql
from services.salesforce_sync.fake.clock import iso
from services.salesforce_sync.fake.errors import ApiError
from services.salesforce_sync.fake.fields import READ_ONLY, WRITABLE
from services.salesforce_sync.fake.gate import Call, api
from services.salesforce_sync.fake.org import Org

DEFAULT_BATCH = 2000
MIN_BATCH = 200
DELETED_DAYS = 30
_BATCH = re.compile(r"batchSize=(\d+)")


def _known(org: Org) -> frozenset[str]:
    return frozenset({*READ_ONLY, *WRITABLE, org.config.external_id_field})


def _batch_size(request: Request) -> int:
    found = _BATCH.search(request.headers.get("sforce-query-options", ""))
    if found is None:
        return DEFAULT_BATCH
    return min(max(int(found.group(1)), MIN_BATCH), DEFAULT_BATCH)


def _with_attributes(version: str, row: dict[str, Any]) -> dict[str, Any]:
    url = f"/services/data/v{version}/sobjects/Contact/{row.get('Id')}"
    return {"attributes": {"type": "Contact", "url": url}, **row}


def _answer(org: Org, version: str, rows: list[dict[str, Any]], offset: int, batch: int,
            locator: str) -> Response:  # fmt: skip
    end = offset + batch
    body: dict[str, Any] = {
        "totalSize": len(rows),
        "done": end >= len(rows),
        "records": [_with_attributes(version, r) for r in rows[offset:end]],
    }
    if end < len(rows):
        org.query_results[locator] = (rows, batch)
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    return JSONResponse(body)


async def _run(request: Request, org: Org, *, include_deleted: bool) -> Response:
    text = request.query_params.get("q")
    if not text:
        raise soql.malformed("the q parameter is required")
    query = soql.parse(text, _known(org))
    contacts = org.contacts.records.values()
    rows = [
        c.fields(org.config.external_id_field)
        for c in contacts
        if include_deleted or not c.is_deleted
    ]
    locator = "01gFK" + secrets.token_hex(6)
    version = request.path_params["version"]
    return _answer(org, version, query.run(rows), 0, _batch_size(request), locator)


@api
async def query(request: Request, org: Org, call: Call) -> Response:
    return await _run(request, org, include_deleted=False)


@api
async def query_all(request: Request, org: Org, call: Call) -> Response:
    return await _run(request, org, include_deleted=True)


@api
async def more(request: Request, org: Org, call: Call) -> Response:
    locator, _, offset = request.path_params["locator"].rpartition("-")
    found = org.query_results.get(locator)
    if found is None or not offset.isdigit():
        raise ApiError.one(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    rows, batch = found
    return _answer(org, request.path_params["version"], rows, int(offset), batch, locator)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _param(request: Request, name: str) -> datetime:
    raw = request.query_params.get(name)
    if raw is None:
        raise ApiError.one(400, "MISSING_ARGUMENT", f"{name} must be specified")
    try:
        return soql.instant(raw)
    except ValueError:
        raise ApiError.one(400, "INVALID_DATE_FORMAT", f"{name}: not a dateTime") from None


@api
async def deleted(request: Request, org: Org, call: Call) -> Response:
    start, end = _param(request, "start"), _param(request, "end")
    now = datetime.now(UTC)
    if start < now - timedelta(days=DELETED_DAYS):
        raise ApiError.one(
            400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"
        )
    if end < start:
        raise ApiError.one(400, "INVALID_REPLICATION_DATE", "endDate before startDate")
    covered = _minute(min(end, now))
    records = []
    for contact in org.contacts.records.values():
        if not contact.is_deleted:
            continue
        at = datetime.fromtimestamp(contact.modified_ms / 1000, UTC)
        if start <= at <= covered:
            records.append((contact.modified_ms, contact.id))
    earliest = _minute(org.started_at)
    return JSONResponse(
        {
            "deletedRecords": [{"id": i, "deletedDate": iso(ms)} for ms, i in sorted(records)],
            "earliestDateAvailable": iso(int(earliest.timestamp() * 1000)),
            "latestDateCovered": iso(int(covered.timestamp() * 1000)),
        }
    )


DATA = "/services/data/v{version}"
ROUTES = [
    Route(DATA + "/query", query, methods=["GET"]),
    Route(DATA + "/query/", query, methods=["GET"]),
    Route(DATA + "/queryAll", query_all, methods=["GET"]),
    Route(DATA + "/queryAll/", query_all, methods=["GET"]),
    Route(DATA + "/query/{locator}", more, methods=["GET"]),
    Route(DATA + "/queryAll/{locator}", more, methods=["GET"]),
    Route(DATA + "/sobjects/Contact/deleted", deleted, methods=["GET"]),
    Route(DATA + "/sobjects/Contact/deleted/", deleted, methods=["GET"]),
]
