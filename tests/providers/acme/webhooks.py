"""Acme webhooks: ``POST /webhooks/acme``, ``{id, type, created, object}`` signed with
``Acme-Signature: t=<unix>,v1=<hex>`` (HMAC-SHA256 of ``f"{t}.{body}"`` with the shared secret).

Verification in a fixed order: parse the header, compare the signature in constant time, then
the timestamp's tolerance (either way: a time far in the future is as suspect as an old one).
``contact.upsert`` and ``contact.delete`` become an upsert or a delete of the customer; other
types are answered and ignored. A change whose ``changed_by`` is twoway's own API user is its
own write coming back: skipped (the shadow comparison would find nothing new in it anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from services.runtime.webhooks import BadSignature, Command, MalformedPayload, WebhookProvider
from tests.providers.acme.names import ACME
from tests.providers.acme.normalize import MalformedContact, command_of
from tests.providers.acme.settings import WEBHOOK_NEEDS, AcmeSettings

SIGNATURE_HEADER = "acme-signature"
HANDLED_TYPES = frozenset({"contact.upsert", "contact.delete"})


def parse_signature(header: str | None) -> tuple[int, str]:
    """``t=<unix>,v1=<hex>`` -> (t, hex)."""
    if not header or not header.isascii():
        raise BadSignature("no Acme-Signature header")
    parts = dict(item.partition("=")[::2] for item in header.split(","))
    at, digest = parts.get("t", ""), parts.get("v1", "")
    if not at.isdigit() or not digest:
        raise BadSignature("the Acme-Signature header is malformed")
    return int(at), digest


class AcmeWebhooks(WebhookProvider):
    provider = ACME

    def __init__(self, secret: SecretStr, api_user: str, tolerance_s: int = 300) -> None:
        self._secret = secret.get_secret_value().encode()
        self._api_user = api_user
        self._tolerance_s = tolerance_s

    def verify(
        self, body: bytes, headers: Mapping[str, str], path: Mapping[str, str]
    ) -> Mapping[str, Any]:
        at, offered = parse_signature(headers.get(SIGNATURE_HEADER))
        expected = hmac.new(self._secret, f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            raise BadSignature("the signature does not match")
        if abs(time.time() - at) > self._tolerance_s:
            raise BadSignature("the signature's timestamp is out of tolerance")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedPayload("the body is not valid JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise MalformedPayload("the body is not an Acme event")
        if not isinstance(event.get("type"), str) or not isinstance(event.get("object"), dict):
            raise MalformedPayload("the event has no type or object")
        return event

    def normalize(self, event: Mapping[str, Any]) -> Sequence[Command]:
        if event["type"] not in HANDLED_TYPES:
            return []
        contact: Mapping[str, Any] = event["object"]
        if contact.get("changed_by") == self._api_user:
            return []  # twoway's own write, coming back
        try:
            return [command_of(contact, event_id=event["id"], event_type=event["type"])]
        except MalformedContact as exc:
            raise MalformedPayload(str(exc)) from None


def from_settings(settings: AcmeSettings) -> AcmeWebhooks:
    settings.require(*WEBHOOK_NEEDS, provider="acme")
    assert settings.acme_webhook_secret is not None
    return AcmeWebhooks(
        settings.acme_webhook_secret, settings.acme_api_user, settings.acme_webhook_tolerance_s
    )
