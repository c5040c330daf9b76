"""Salesforce Outbound Messages as Salesforce sends them, built for the gateway's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

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
    body = "".join(
        f"<sf:{name}>{escape(value)}</sf:{name}>" for name, value in fields.items() if value
    )
    return (
        '<sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{body}</sObject>"
    )


def message(*sobjects: str, org_id: str = ORG_ID, ids: list[str] | None = None) -> bytes:
    notifications = "".join(
        f"<Notification><Id>{(ids or [])[i] if ids else f'04lTW{i:013d}'}</Id>{obj}</Notification>"
        for i, obj in enumerate(sobjects)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>04kTW0000000001AAA</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0</EnterpriseUrl>"
        "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0</PartnerUrl>"
        f"{notifications}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()
