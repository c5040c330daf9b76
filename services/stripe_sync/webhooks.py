"""Stripe webhooks: ``Stripe-Signature`` verification, then ``services.stripe_sync.normalize``."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import stripe
from pydantic import SecretStr

from services.runtime.settings import ConfigError
from services.runtime.webhooks import (
    BadSignature,
    Command,
    MalformedPayload,
    WebhookProvider,
)
from services.stripe_sync.names import STRIPE
from services.stripe_sync.normalize import MalformedObject, commands_of
from services.stripe_sync.settings import WEBHOOK_NEEDS, StripeSettings
from services.stripe_sync.webhook_scope import out_of_scope

SIGNATURE_HEADER = "stripe-signature"


class StripeWebhooks(WebhookProvider):
    provider = STRIPE

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

    def verify(
        self, body: bytes, headers: Mapping[str, str], path: Mapping[str, str]
    ) -> Mapping[str, Any]:
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
        try:
            return commands_of(event)
        except MalformedObject as exc:
            raise MalformedPayload(str(exc)) from None


def from_settings(settings: StripeSettings) -> StripeWebhooks:
    settings.require(*WEBHOOK_NEEDS, provider="stripe")
    if settings.stripe_mode is None:
        raise ConfigError(
            "TWOWAY_STRIPE_MODE: set test or live (no STRIPE_API_KEY to tell it from)"
        )
    return StripeWebhooks(
        settings.webhook_secrets,
        settings.webhook_tolerance_s,
        live=settings.stripe_mode == "live",
        accounts=settings.connect_accounts,
    )


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
