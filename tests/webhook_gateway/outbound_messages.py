"""Salesforce Outbound Messages as Salesforce sends them, built for the gateway's tests (the
XML itself is the fake Salesforce's: ``services/salesforce_sync/fake/soap.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.salesforce_sync.fake import soap

ORG_ID = "00DTW0000000001YAA"
TOKEN = "tok-" + "s3cr3t" * 4
INTEGRATION_USER = "005TW0000000001YAA"
UI_USER = "005TW0000000002YAA"


def contact(
    contact_id: str = "003TW0000000001AAA",
    *,
    first: str | None = "Ada",
    last: str | None = "Lovelace",
    email: str | None = "ada@example.com",
    phone: str | None = None,
    local_id: str | None = None,
    user: str = UI_USER,
    at: datetime | None = None,
    deleted: bool = False,
) -> str:
    """One sObject element (fields without a value left out, as Salesforce does)."""
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fields = {
        "Id": contact_id,
        "FirstName": first,
        "LastName": last,
        "Email": email,
        "Phone": phone,
        "Twoway_Id__c": local_id,
        "LastModifiedById": user,
        "SystemModstamp": stamp,
        "IsDeleted": "true" if deleted else None,
    }
    return soap.sobject("Contact", fields)


def message(*sobjects: str, org_id: str = ORG_ID, ids: list[str] | None = None) -> bytes:
    notification_ids = ids or [f"04lTW{i:013d}" for i in range(len(sobjects))]
    return soap.message(
        list(zip(notification_ids, sobjects, strict=True)),
        org_id=org_id,
        action_id="04kTW0000000001AAA",
        enterprise_url="https://example.my.salesforce.com/services/Soap/c/60.0",
        partner_url="https://example.my.salesforce.com/services/Soap/u/60.0",
    )
