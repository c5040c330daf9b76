"""SOQL reads: one query, every batch (``nextRecordsUrl`` while ``done`` is false).

Salesforce answers up to 2,000 rows a batch; ``Sforce-Query-Options: batchSize`` asks for
fewer (200 at least), so one page of the repair jobs is one request. A dateTime literal is
written in UTC with milliseconds, as ``SystemModstamp`` holds them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.salesforce_sync.salesforce.client import SalesforceClient

BATCH_SIZE = 200


def literal(moment: datetime) -> str:
    """``2024-05-01T12:00:00.000Z``"""
    at = moment.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def rows(
    client: SalesforceClient, text: str, *, deleted: bool = False, operation: str = "query"
) -> list[dict[str, Any]]:
    """Every row of the query (``deleted``: ``queryAll``, rows in the Recycle Bin too)."""
    headers = {"Sforce-Query-Options": f"batchSize={BATCH_SIZE}"}
    prefix = f"/services/data/v{client.settings.salesforce_api_version}"
    path = "/queryAll" if deleted else "/query"
    params: dict[str, str] | None = {"q": text}
    found: list[dict[str, Any]] = []
    while True:
        response = await client.request(
            operation, "GET", path, params=params, lane="bulk", headers=headers
        )
        body: dict[str, Any] = response.json()
        found.extend(body.get("records") or [])
        next_url = body.get("nextRecordsUrl")
        if body.get("done", True) or not isinstance(next_url, str):
            return found
        path, params = next_url.removeprefix(prefix), None
