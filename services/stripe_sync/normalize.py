"""Stripe's events and objects as twoway's inbound commands, for every entity kind twoway maps
to a Stripe object. Pure: no I/O.

Two services read Stripe through it: the webhook gateway (events delivered to it) and the repair
jobs (events read back from the Events API by catch-up, objects listed by reconcile and the
drift audit), so a change means the same whichever way it arrives.

``STRIPE_OBJECTS`` is the registration point: Stripe's object name (the event type's prefix,
``customer.updated``) -> twoway's entity kind. Everything else is generic: the kind's
``ProviderState`` names the synced fields, read from ``data.object`` the way Stripe means them
(an empty string is unset; twoway's ``twoway_id`` metadata key is lifted out into
``local_id``); the changed paths and their prior values come from
``data.previous_attributes``; the request's idempotency key names twoway's own writes.

    MalformedObject -- an event or object that Stripe would not send (no id, bad metadata, ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue, ValidationError

from services.stripe_sync.names import STRIPE
from shared.bookkeeping import LOCAL_ID_METADATA_KEY, event_id_of_key
from shared.commands import Delete, Upsert
from shared.entities import KINDS
from shared.fields import Flat, flatten
from shared.kinds import EntityKind
from shared.registry import Registry

STRIPE_OBJECTS: Registry[str, EntityKind] = Registry("Stripe objects")
STRIPE_OBJECTS.register("customer", EntityKind.CUSTOMER)
STRIPE_OBJECTS.register("product", EntityKind.PRODUCT)

PROVIDER = STRIPE
UPSERTS = frozenset({"created", "updated"})
DELETED = "deleted"
HANDLED_TYPES = frozenset(
    f"{name}.{action}" for name in STRIPE_OBJECTS for action in (*UPSERTS, DELETED)
)
"""The event types twoway applies; every other type is answered and ignored."""

Command = Upsert | Delete


class MalformedObject(ValueError):
    """The event or object is not one Stripe would send."""


def object_name(kind: EntityKind) -> str:
    """Stripe's name for ``kind``'s objects (``customer``)."""
    return next(name for name, k in STRIPE_OBJECTS.items() if k == kind)


def local_id_of(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    value = metadata.get(LOCAL_ID_METADATA_KEY) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


def _value(value: Any) -> Any:
    """At Stripe an empty string unsets a field or a metadata key; some emulators
    (localstripe) store it instead. Read it the way Stripe means it."""
    return None if value == "" else value


def _fields(obj: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = obj.get(name)
        if isinstance(value, Mapping):
            out[name] = {k: v for k, v in value.items() if k != LOCAL_ID_METADATA_KEY and v != ""}
        else:
            out[name] = _value(value)
    return out


def state_of(kind: EntityKind, obj: Mapping[str, Any]) -> dict[str, JsonValue]:
    """The kind's provider state of a Stripe object, as command data."""
    names = KINDS[kind].state.synced_fields
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise MalformedObject("the object's metadata is not an object")
    try:
        state = KINDS[kind].state.model_validate(_fields(obj, names))
    except ValidationError as exc:
        raise MalformedObject(
            f"unexpected {kind.value} fields: {exc.error_count()} errors"
        ) from None
    data: dict[str, JsonValue] = state.model_dump(mode="json")
    return data


def _previous(
    data: Mapping[str, Any], names: Sequence[str], now: Flat
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


def commands_of(event: Mapping[str, Any]) -> list[Command]:
    """The commands of one verified Stripe event; none for the types twoway does not sync."""
    prefix, _, action = str(event["type"]).partition(".")
    if prefix not in STRIPE_OBJECTS or (action not in UPSERTS and action != DELETED):
        return []
    kind = STRIPE_OBJECTS[prefix]
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise MalformedObject(f"a {prefix} event without data.object.id")
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_event_id": event["id"],
        "provider_event_type": event["type"],
        "entity": kind,
        "external_id": obj["id"],
        "local_id": local_id_of(obj),
        "occurred_at": datetime.fromtimestamp(event["created"], UTC),
    }
    if action == DELETED:
        return [Delete(**common)]
    state = state_of(kind, obj)
    changes = None
    if action == "updated" and isinstance(data, dict):
        names = KINDS[kind].state.synced_fields
        changes = _previous(data, names, KINDS[kind].state.model_validate(state).flat())
    request = event.get("request")
    return [
        Upsert(
            **common,
            data=state,
            initial=action == "created",
            changed=None if changes is None else tuple(sorted(changes)),
            previous=changes,
            request_known=isinstance(request, dict),
            echo_of=event_id_of_key(request.get("idempotency_key"))
            if isinstance(request, dict)
            else None,
        )
    ]


def observed(
    kind: EntityKind,
    obj: Mapping[str, Any],
    event_id: str,
    event_type: str,
    at: datetime,
    resolution_s: float,
) -> Upsert:
    """An object as read from the API (not from an event): its whole state at ``at`` (within
    ``resolution_s`` after it), without saying what changed or who changed it, so the merge
    compares it path by path with what it knows."""
    if not isinstance(obj.get("id"), str):
        raise MalformedObject(f"a {kind.value} without an id")
    return Upsert(
        provider=PROVIDER,
        provider_event_id=event_id,
        provider_event_type=event_type,
        entity=kind,
        external_id=obj["id"],
        local_id=local_id_of(obj),
        occurred_at=at,
        clock_resolution_s=min(max(resolution_s, 0.0), 60.0),
        data=state_of(kind, obj),
    )
