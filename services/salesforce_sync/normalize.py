"""Salesforce records as twoway's inbound commands. Pure: no I/O.

Two services read Salesforce through it: the webhook gateway (Outbound Messages' sObjects) and
the repair jobs (records read back with SOQL by catch-up, reconcile and the drift audit), so a
change means the same whichever way it arrives.

``SALESFORCE_OBJECTS`` is the registration point: the sObject type -> twoway's entity kind.
A Contact is a customer: ``FirstName`` and ``LastName`` joined with one space are the name,
``Email`` the email, ``Phone`` the phone; the External ID field holds the local id; the time is
``SystemModstamp`` (milliseconds). ``IsDeleted`` true makes it a delete.

    MalformedRecord -- a record Salesforce would not send (no Id, no SystemModstamp, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.salesforce_sync.names import SALESFORCE
from shared.commands import Delete, Upsert
from shared.kinds import EntityKind
from shared.registry import Registry

SALESFORCE_OBJECTS: Registry[str, EntityKind] = Registry("Salesforce objects")
SALESFORCE_OBJECTS.register("Contact", EntityKind.CUSTOMER)

PROVIDER = SALESFORCE
CONTACT_FIELDS = ("Id", "FirstName", "LastName", "Email", "Phone", "IsDeleted")
CHANGE_FIELDS = ("LastModifiedById", "SystemModstamp")
CONTACT_HOLDS = frozenset({"name", "email", "phone"})
"""The customer fields a Contact holds (metadata has no place on it)."""
RESOLUTION_S = 0.001

Command = Upsert | Delete


class MalformedRecord(ValueError):
    """The record is not one Salesforce would send."""


def stamp(raw: object) -> datetime:
    """A Salesforce dateTime (``...Z``, ``+00:00`` or ``+0000``)."""
    if not isinstance(raw, str):
        raise MalformedRecord("a record without SystemModstamp")
    text = raw.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise MalformedRecord("SystemModstamp is not a time") from None


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    return str(value)


def is_deleted(record: Mapping[str, Any]) -> bool:
    value = record.get("IsDeleted")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def command_of(
    sobject: str,
    record: Mapping[str, Any],
    *,
    event_id: str,
    event_type: str,
    external_id_field: str,
) -> Command:
    """The command of one record of a registered sObject type (its field values by API name:
    text, or JSON values as the REST API answers them)."""
    external_id = _text(record, "Id")
    if external_id is None:
        raise MalformedRecord("a record without Id")
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_event_id": event_id,
        "provider_event_type": event_type,
        "entity": SALESFORCE_OBJECTS[sobject],
        "external_id": external_id,
        "local_id": _text(record, external_id_field),
        "occurred_at": stamp(record.get("SystemModstamp")),
        "clock_resolution_s": RESOLUTION_S,
    }
    try:
        if is_deleted(record):
            return Delete(**common)
        names = [_text(record, n) for n in ("FirstName", "LastName")]
        data: dict[str, Any] = {
            "name": " ".join(n for n in names if n) or None,
            "email": _text(record, "Email"),
            "phone": _text(record, "Phone"),
            "metadata": {},
        }
        return Upsert(**common, data=data)
    except ValidationError as exc:
        raise MalformedRecord(f"unexpected {sobject} fields: {exc.error_count()} errors") from None
