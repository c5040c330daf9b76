"""Stripe's customers and events as twoway's inbound commands. Pure: no I/O.

Two services read Stripe through it: the webhook gateway (events delivered to it) and the repair
jobs (events read back from the Events API by catch-up, objects listed by reconcile and the
drift audit), so a change means the same whichever way it arrives.

    MalformedObject -- an event or object that Stripe would not send (no id, bad metadata, ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from shared.bookkeeping import LOCAL_ID_METADATA_KEY, event_id_of_key
from shared.commands import CustomerDelete, CustomerSnapshot, CustomerUpsert
from shared.fields import Flat
from shared.kinds import Provider

UPSERT_TYPES = frozenset({"customer.created", "customer.updated"})
DELETE_TYPE = "customer.deleted"
HANDLED_TYPES = UPSERT_TYPES | {DELETE_TYPE}
"""The event types twoway applies; every other type is answered and ignored."""

Command = CustomerUpsert | CustomerDelete
PROVIDER = Provider.STRIPE


class MalformedObject(ValueError):
    """The event or object is not one Stripe would send."""


def local_id_of(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    value = metadata.get(LOCAL_ID_METADATA_KEY) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


def customer_snapshot(obj: Mapping[str, Any]) -> CustomerSnapshot:
    """A Stripe customer's synced fields. At Stripe an empty string unsets a field or a
    metadata key; some emulators (localstripe) store it instead: read it the way Stripe means
    it. The local id is lifted out of the metadata (it is ``local_id``, never user data)."""
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MalformedObject("data.object.metadata is not an object")
    try:
        return CustomerSnapshot(
            name=obj.get("name"),
            email=obj.get("email"),
            phone=obj.get("phone") or None,
            metadata={k: v for k, v in metadata.items() if k != LOCAL_ID_METADATA_KEY and v != ""},
        )
    except ValidationError as exc:
        raise MalformedObject(f"unexpected customer fields: {exc.error_count()} errors") from None


def commands_of(event: Mapping[str, Any]) -> Sequence[Command]:
    """The commands one event asks for; none for event types twoway does not handle.

    ``event`` has a string ``id`` and ``type`` and an integer ``created`` (the caller checks)."""
    kind = event["type"]
    if kind not in HANDLED_TYPES:
        return []
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise MalformedObject("a customer event without data.object.id")
    if not isinstance(obj.get("metadata") or {}, dict):
        raise MalformedObject("data.object.metadata is not an object")
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_event_id": event["id"],
        "provider_event_type": kind,
        "external_id": obj["id"],
        "local_id": local_id_of(obj),
        "occurred_at": datetime.fromtimestamp(event["created"], UTC),
    }
    if kind == DELETE_TYPE:
        try:
            return [CustomerDelete(**common)]
        except ValidationError as exc:
            raise MalformedObject(f"unexpected event fields: {exc.error_count()} errors") from None
    snapshot = customer_snapshot(obj)
    changes = None
    if kind != "customer.created" and isinstance(data, dict):
        changes = _previous(data, snapshot.flat())
    request = event.get("request")
    try:
        return [
            CustomerUpsert(
                **common,
                data=snapshot,
                initial=kind == "customer.created",
                changed=None if changes is None else tuple(sorted(changes)),
                previous=changes,
                request_known=isinstance(request, dict),
                echo_of=event_id_of_key(request.get("idempotency_key"))
                if isinstance(request, dict)
                else None,
            )
        ]
    except ValidationError as exc:
        raise MalformedObject(f"unexpected customer fields: {exc.error_count()} errors") from None


def observed_customer(
    obj: Mapping[str, Any], event_id: str, event_type: str, at: datetime, resolution_s: float
) -> CustomerUpsert:
    """A customer as read from the API (not from an event): its whole state at ``at`` (within
    ``resolution_s`` after it), without saying what changed or who changed it, so the merge
    compares it path by path with what it knows."""
    if not isinstance(obj.get("id"), str):
        raise MalformedObject("a customer without an id")
    try:
        return CustomerUpsert(
            provider=PROVIDER,
            provider_event_id=event_id,
            provider_event_type=event_type,
            external_id=obj["id"],
            local_id=local_id_of(obj),
            occurred_at=at,
            clock_resolution_s=min(max(resolution_s, 0.0), 60.0),
            data=customer_snapshot(obj),
        )
    except ValidationError as exc:
        raise MalformedObject(f"unexpected customer fields: {exc.error_count()} errors") from None


def _previous(data: Mapping[str, Any], now: Flat) -> dict[str, Any] | None:
    """The synced paths ``data.previous_attributes`` says changed, with their prior values;
    None when Stripe does not say (an emulator, or an event without the attribute)."""
    previous = data.get("previous_attributes")
    if not isinstance(previous, dict):
        return None
    before: dict[str, Any] = {}
    for name in ("name", "email", "phone"):
        if name in previous:
            before[name] = previous[name] or None
    old_metadata = previous.get("metadata")
    if isinstance(old_metadata, dict):
        for key, value in old_metadata.items():
            if key != LOCAL_ID_METADATA_KEY:
                before[f"metadata.{key}"] = value or None
    # Only what really differs: an attribute listed with its current value changed nothing.
    return {path: value for path, value in before.items() if now.get(path) != value}
