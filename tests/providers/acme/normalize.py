"""Acme contacts as twoway's inbound commands. Pure: no I/O.

The gateway (webhooks) and the repair jobs (the list endpoint and the change log) read contacts
through it, so a change means the same whichever way it arrives. A contact is a customer:
``name``, ``email``, ``phone`` as they are; ``twoway_id`` is the local id; the time is
``updated_at`` (milliseconds). A change log entry and its webhook share one id (``evt_<seq>``),
so the inbox takes whichever comes first and drops the other.

    MalformedContact -- a contact Acme would not send (no id, no updated_at, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.commands import Delete, Upsert
from shared.kinds import EntityKind
from tests.providers.acme.names import ACME

FIELDS = ("name", "email", "phone")
HOLDS = frozenset(FIELDS)
"""The customer fields a contact holds (metadata has no place on it)."""
RESOLUTION_S = 0.001

Command = Upsert | Delete


class MalformedContact(ValueError):
    """The contact is not one Acme would send."""


def stamp(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise MalformedContact("a contact without updated_at")
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedContact("updated_at is not a time") from None


def _text(contact: Mapping[str, Any], name: str) -> str | None:
    value = contact.get(name)
    return str(value) if value not in (None, "") else None


def event_id(seq: object) -> str:
    return f"evt_{seq}"


def command_of(contact: Mapping[str, Any], *, event_id: str, event_type: str) -> Command:
    """The command of one contact snapshot (as the API, its webhooks and its log send it)."""
    external_id = _text(contact, "id")
    if external_id is None:
        raise MalformedContact("a contact without id")
    common: dict[str, Any] = {
        "provider": ACME,
        "provider_event_id": event_id,
        "provider_event_type": event_type,
        "entity": EntityKind.CUSTOMER,
        "external_id": external_id,
        "local_id": _text(contact, "twoway_id"),
        "occurred_at": stamp(contact.get("updated_at")),
        "clock_resolution_s": RESOLUTION_S,
    }
    try:
        if contact.get("deleted") is True:
            return Delete(**common)
        data: dict[str, Any] = {name: _text(contact, name) for name in FIELDS}
        return Upsert(**common, data={**data, "metadata": {}})
    except ValidationError as exc:
        raise MalformedContact(f"unexpected contact fields: {exc.error_count()} errors") from None
