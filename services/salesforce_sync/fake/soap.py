"""Outbound Messages as Salesforce writes them (SOAP 1.1), and reading the listener's Ack.

Shared with the gateway's tests (``tests/webhook_gateway/outbound_messages.py``), so the fake
and the tests build one shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeXml
from defusedxml import DefusedXmlException

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100


def sobject(object_type: str, fields: Mapping[str, str | None]) -> str:
    """One ``<sObject>``; fields without a value are left out, as Salesforce does."""
    body = "".join(
        f"<sf:{name}>{escape(value)}</sf:{name}>" for name, value in fields.items() if value
    )
    return f'<sObject xsi:type="sf:{object_type}" xmlns:sf="{SOBJECT}">{body}</sObject>'


def message(
    notifications: Sequence[tuple[str, str]],
    *,
    org_id: str,
    action_id: str,
    enterprise_url: str,
    partner_url: str,
) -> bytes:
    """A ``notifications`` envelope; ``notifications``: (notification Id, sObject XML) pairs
    (Salesforce sends 1 to ``MAX_NOTIFICATIONS``; tests may build others)."""
    items = "".join(
        f"<Notification><Id>{escape(nid)}</Id>{obj}</Notification>" for nid, obj in notifications
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:xsi="{XSI}"><soapenv:Body>'
        f'<notifications xmlns="{OUTBOUND}">'
        f"<OrganizationId>{escape(org_id)}</OrganizationId>"
        f"<ActionId>{escape(action_id)}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{escape(enterprise_url)}</EnterpriseUrl>"
        f"<PartnerUrl>{escape(partner_url)}</PartnerUrl>"
        f"{items}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def acked(body: bytes) -> bool:
    """Whether the listener's answer holds ``<Ack>true</Ack>`` (anything else: send again)."""
    try:
        root: Element = SafeXml.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, SafeXml.ParseError):
        return False
    ack = root.find(f".//{{{OUTBOUND}}}Ack")
    return ack is not None and (ack.text or "").strip().lower() == "true"
