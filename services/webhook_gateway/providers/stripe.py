"""Stripe webhooks: ``Stripe-Signature`` verification and ``customer.*`` normalization."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import stripe
from pydantic import SecretStr, ValidationError

from services.webhook_gateway.providers.base import (
    BadSignature,
    Command,
    MalformedPayload,
    WebhookProvider,
)
from services.webhook_gateway.providers.stripe_scope import out_of_scope
from services.webhook_gateway.settings import GatewaySettings
from shared.bookkeeping import LOCAL_ID_METADATA_KEY, event_id_of_key
from shared.commands import CustomerDelete, CustomerSnapshot, CustomerUpsert
from shared.fields import Flat
from shared.kinds import Provider

SIGNATURE_HEADER = "stripe-signature"
UPSERT_TYPES = frozenset({"customer.created", "customer.updated"})
DELETE_TYPE = "customer.deleted"


class StripeWebhooks(WebhookProvider):
    provider = Provider.STRIPE

    def __init__(
        self,
        secrets: Sequence[SecretStr],
        tolerance_s: int = 300,
        live: bool = False,
        accounts: frozenset[str] = frozenset(),
    ) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._secrets = tuple(secrets)
        self._tolerance_s = tolerance_s
        self._live = live
        self._accounts = accounts

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Mapping[str, Any]:
        header = headers.get(SIGNATURE_HEADER)
        if header is not None and not header.isascii():
            # The SDK's constant-time compare raises TypeError on non-ASCII text.
            raise BadSignature("the signature header is not ASCII")
        self._verify_signature(body, header)
        # The SDK bounds only the past; a timestamp far in the future is as suspect.
        if _timestamp(header) > time.time() + self._tolerance_s:
            raise BadSignature("the signature's timestamp is in the future")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedPayload("the body is not valid JSON") from None
        if not isinstance(event, dict):
            raise MalformedPayload("the body is not a JSON object")
        _require(event, "id", str)
        _require(event, "type", str)
        _require(event, "created", int)
        return event

    def _verify_signature(self, body: bytes, header: str | None) -> None:
        """Signed with any of the secrets (several while one is being rotated)."""
        failure: stripe.SignatureVerificationError | None = None
        for secret in self._secrets:
            try:
                stripe.WebhookSignature.verify_header(
                    body, header, secret.get_secret_value(), self._tolerance_s
                )
                return
            except stripe.SignatureVerificationError as exc:
                failure = failure or exc
            except UnicodeDecodeError:
                raise BadSignature(
                    "the body is not UTF-8, so it cannot carry a valid signature"
                ) from None
        raise BadSignature(_first_sentence(str(failure))) from None

    def out_of_scope(self, event: Mapping[str, Any]) -> str | None:
        return out_of_scope(event, self._live, self._accounts)

    def normalize(self, event: Mapping[str, Any]) -> Sequence[Command]:
        kind = event["type"]
        if kind not in UPSERT_TYPES and kind != DELETE_TYPE:
            return []
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise MalformedPayload("a customer event without data.object.id")
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise MalformedPayload("data.object.metadata is not an object")
        common: dict[str, Any] = {
            "provider": self.provider,
            "provider_event_id": event["id"],
            "provider_event_type": kind,
            "external_id": obj["id"],
            "local_id": metadata.get(LOCAL_ID_METADATA_KEY) or None,
            "occurred_at": datetime.fromtimestamp(event["created"], UTC),
        }
        try:
            if kind == DELETE_TYPE:
                return [CustomerDelete(**common)]
            # At Stripe an empty string unsets a field or a metadata key; some emulators
            # (localstripe) store it instead. Read it the way Stripe means it.
            snapshot = CustomerSnapshot(
                name=obj.get("name"),
                email=obj.get("email"),
                phone=obj.get("phone") or None,
                metadata={
                    k: v for k, v in metadata.items() if k != LOCAL_ID_METADATA_KEY and v != ""
                },
            )
            changes = None
            if kind != "customer.created" and isinstance(data, dict):
                changes = _previous(data, snapshot.flat())
            request = event.get("request")
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
            raise MalformedPayload(
                f"unexpected customer fields: {exc.error_count()} errors"
            ) from None


def from_settings(settings: GatewaySettings) -> StripeWebhooks:
    return StripeWebhooks(
        settings.webhook_secrets,
        settings.webhook_tolerance_s,
        live=settings.stripe_mode == "live",
        accounts=settings.connect_accounts,
    )


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


def _timestamp(header: str | None) -> int:
    # verify_header already parsed it, so the header is well formed here.
    for item in (header or "").split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value)
    return 0


def _require(event: Mapping[str, Any], key: str, kind: type) -> None:
    value = event.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"the event has no valid {key!r}")


def _first_sentence(message: str) -> str:
    return message.split(". ", 1)[0].rstrip(".")
