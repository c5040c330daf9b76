"""Salesforce Outbound Messages: ``POST /webhooks/salesforce/{token}``.

What arrives: a SOAP 1.1 envelope from a workflow rule or record-triggered flow, with the org's
``OrganizationId`` and 1-100 ``Notification``s, each with its own ``Id`` and an ``sObject``
holding the configured fields (for Contacts: ``Id``, ``FirstName``, ``LastName``, ``Email``,
``Phone``, the External ID field, ``LastModifiedById``, ``SystemModstamp``; a field without a
value may be left out, and is read as blank).

Salesforce does not sign them. What stands in for a signature: the secret token in the URL
path, the configured ``OrganizationId`` (both compared in constant time), TLS, and an IP
allow-list of Salesforce's ranges at the deployment's edge (see the README).

Normalization (``services.salesforce_sync.normalize``, shared with the repair jobs): a notification
is an upsert of the customer (``external_id`` the Contact's Id,
``local_id`` the External ID field, the time ``SystemModstamp`` to the millisecond), deduped
downstream by the notification's ``Id``. A change whose ``LastModifiedById`` is the integration
user (twoway's own write) is skipped, as Salesforce advises against loops; the shadow
comparison still catches any other echo. ``IsDeleted`` true (an org's delete flow) is a
delete. The answer is the SOAP ``<Ack>true</Ack>``, only once the broker confirmed the commands;
anything else makes Salesforce deliver again (for up to 24 hours).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml
from defusedxml import DefusedXmlException
from pydantic import SecretStr
from starlette.responses import Response

from services.runtime.webhooks import (
    Command,
    MalformedPayload,
    WebhookProvider,
    WebhookRejected,
)
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.normalize import (
    CHANGE_FIELDS,
    CONTACT_FIELDS,
    SALESFORCE_OBJECTS,
    MalformedRecord,
    command_of,
)
from services.salesforce_sync.settings import WEBHOOK_NEEDS, SalesforceSettings

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


class NotOurs(WebhookRejected):
    status = 401
    code = "bad_credentials"


def _text(parent: Element, tag: str) -> str | None:
    child = parent.find(tag)
    if child is None or child.get(f"{{{XSI}}}nil") == "true":
        return None
    return (child.text or "").strip() or None


def _parse(body: bytes) -> Element:
    try:
        root: Element = SafeXml.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, SafeXml.ParseError) as exc:
        raise MalformedPayload(f"not an Outbound Message: {type(exc).__name__}") from None
    notifications = root.find(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    if notifications is None:
        raise MalformedPayload("no notifications in the SOAP body")
    return notifications


class SalesforceWebhooks(WebhookProvider):
    provider = SALESFORCE
    route = "/webhooks/salesforce/{token}"

    def __init__(
        self,
        org_id: str,
        token: SecretStr,
        integration_user_id: str | None,
        external_id_field: str,
    ) -> None:
        self._org_id = org_id
        self._token = token
        self._integration_user = integration_user_id
        self._external_id_field = external_id_field

    def verify(
        self, body: bytes, headers: Mapping[str, str], path: Mapping[str, str]
    ) -> Mapping[str, Any]:
        offered = path.get("token", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(offered, self._token.get_secret_value().encode()):
            raise NotOurs("unknown endpoint token")
        notifications = _parse(body)
        org = (_text(notifications, f"{{{OUTBOUND}}}OrganizationId") or "").encode()
        # Salesforce ids come as 15 or 18 characters: the first 15 are the id.
        if not hmac.compare_digest(org[:15], self._org_id.encode()[:15]):
            raise NotOurs("the message is from another organization")
        items = notifications.findall(f"{{{OUTBOUND}}}Notification")
        if not 1 <= len(items) <= MAX_NOTIFICATIONS:
            raise MalformedPayload(f"{len(items)} notifications (1 to {MAX_NOTIFICATIONS})")
        return {"id": _text(notifications, f"{{{OUTBOUND}}}ActionId"), "notifications": items}

    def normalize(self, event: Mapping[str, Any]) -> Sequence[Command]:
        commands: list[Command] = []
        for item in event["notifications"]:
            command = self._command(item)
            if command is not None:
                commands.append(command)
        return commands

    def _command(self, item: Element) -> Command | None:
        notification_id = _text(item, f"{{{OUTBOUND}}}Id")
        obj = item.find(f"{{{OUTBOUND}}}sObject")
        if notification_id is None or obj is None:
            raise MalformedPayload("a notification without Id or sObject")
        object_type = (obj.get(f"{{{XSI}}}type") or "").rpartition(":")[2]
        if object_type not in SALESFORCE_OBJECTS:
            return None  # an object twoway does not sync: answered, ignored
        if _text(obj, f"{{{SOBJECT}}}LastModifiedById") == self._integration_user:
            return None  # twoway's own write: not sent back (Salesforce's advice on loops)
        names = (*CONTACT_FIELDS, *CHANGE_FIELDS, self._external_id_field)
        record = {name: _text(obj, f"{{{SOBJECT}}}{name}") for name in names}
        try:
            return command_of(
                object_type,
                record,
                event_id=notification_id,
                event_type=f"{object_type}.outbound_message",
                external_id_field=self._external_id_field,
            )
        except MalformedRecord as exc:
            raise MalformedPayload(str(exc)) from None

    def acknowledge(self, status: str, detail: Mapping[str, Any]) -> Response:
        return Response(ACK, media_type="text/xml; charset=utf-8")


def from_settings(settings: SalesforceSettings) -> SalesforceWebhooks:
    settings.require(*WEBHOOK_NEEDS, provider="salesforce")
    assert settings.salesforce_org_id is not None
    assert settings.salesforce_webhook_token is not None
    return SalesforceWebhooks(
        settings.salesforce_org_id,
        settings.salesforce_webhook_token,
        settings.salesforce_integration_user_id,
        settings.salesforce_external_id_field,
    )
