"""Stripe events -> inbound commands, for every entity kind twoway maps to a Stripe object.

``STRIPE_OBJECTS`` is the registration point: Stripe's object name (the event type's prefix,
``customer.updated``) -> twoway's entity kind. Everything else is generic: the kind's
``ProviderState`` names the synced fields, read from ``data.object`` the way Stripe means them
(an empty string is unset; twoway's ``twoway_id`` metadata key is lifted out into
``local_id``); the changed paths and their prior values come from
``data.previous_attributes``; the request's idempotency key names twoway's own writes.

Pure: no I/O, so the gateway and anything replaying Stripe events read them alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue, ValidationError

from services.webhook_gateway.providers.base import Command, MalformedPayload
from shared.bookkeeping import LOCAL_ID_METADATA_KEY, event_id_of_key
from shared.commands import Delete, Upsert
from shared.entities import KINDS
from shared.fields import Flat, flatten
from shared.kinds import EntityKind, Provider
from shared.registry import Registry

STRIPE_OBJECTS: Registry[str, EntityKind] = Registry("Stripe objects")
STRIPE_OBJECTS.register("customer", EntityKind.CUSTOMER)
STRIPE_OBJECTS.register("product", EntityKind.PRODUCT)

UPSERTS = frozenset({"created", "updated"})
DELETED = "deleted"


def _value(value: Any) -> Any:
    """At Stripe an empty string unsets a field or a metadata key; some emulators
    (localstripe) store it instead. Read it the way Stripe means it."""
    return None if value == "" else value


def _fields(obj: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = obj.get(name)
        if isinstance(value, Mapping):
            out[name] = {k: v for k, v in value.items() if k != LOCAL_ID_METADATA_KEY and v != ""}
        else:
            out[name] = _value(value)
    return out


def _previous(
    data: Mapping[str, Any], names: tuple[str, ...], now: Flat
) -> dict[str, JsonValue] | None:
    """The synced paths ``data.previous_attributes`` says changed, with their prior values;
    None when Stripe does not say (an emulator, or an event without the attribute)."""
    previous = data.get("previous_attributes")
    if not isinstance(previous, dict):
        return None
    said = {name: previous[name] for name in names if name in previous}
    before = flatten(_fields(said, tuple(said)), tuple(said))
    # Only what really differs: an attribute listed with its current value changed nothing.
    return {path: value for path, value in before.items() if now.get(path) != value}


def commands(provider: Provider, event: Mapping[str, Any]) -> list[Command]:
    """The commands of one verified Stripe event; none for the types twoway does not sync."""
    prefix, _, action = str(event["type"]).partition(".")
    if prefix not in STRIPE_OBJECTS or (action not in UPSERTS and action != DELETED):
        return []
    kind = STRIPE_OBJECTS[prefix]
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise MalformedPayload(f"a {prefix} event without data.object.id")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MalformedPayload("data.object.metadata is not an object")
    common: dict[str, Any] = {
        "provider": provider,
        "provider_event_id": event["id"],
        "provider_event_type": event["type"],
        "entity": kind,
        "external_id": obj["id"],
        "local_id": metadata.get(LOCAL_ID_METADATA_KEY) or None,
        "occurred_at": datetime.fromtimestamp(event["created"], UTC),
    }
    try:
        if action == DELETED:
            return [Delete(**common)]
        names = KINDS[kind].state.synced_fields
        state = KINDS[kind].state.model_validate(_fields(obj, names))
        changes = None
        if action == "updated" and isinstance(data, dict):
            changes = _previous(data, names, state.flat())
        request = event.get("request")
        return [
            Upsert(
                **common,
                data=state.model_dump(mode="json"),
                initial=action == "created",
                changed=None if changes is None else tuple(sorted(changes)),
                previous=changes,
                request_known=isinstance(request, dict),
                echo_of=event_id_of_key(request.get("idempotency_key"))
                if isinstance(request, dict)
                else None,
            )
        ]
    except ValidationError as exc:
        raise MalformedPayload(f"unexpected {prefix} fields: {exc.error_count()} errors") from None
