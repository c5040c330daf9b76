"""Stripe-shaped events and signed deliveries for gateway tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.conftest import WEBHOOK_SECRET
from tests.fakes.stripe_fake import sign


def customer_event(
    kind: str = "customer.created",
    customer_id: str = "cus_test1",
    created: int | None = None,
    event_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    obj = {
        "id": customer_id,
        "object": "customer",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": None,
        "metadata": {},
        "account_balance": 0,
        **fields,
    }
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": created if created is not None else int(time.time()),
        "api_version": "2017-08-15",
        "data": {"object": obj},
    }


async def post_signed(
    client: httpx.AsyncClient,
    body: bytes | dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    skew: int = 0,
    header: str | None = None,
    signed: bool = True,
) -> httpx.Response:
    """POST ``body`` as Stripe would; ``skew`` moves the signature's timestamp (seconds)."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {"Content-Type": "application/json"}
    if signed:
        stamp = (timestamp or int(time.time())) + skew
        headers["Stripe-Signature"] = header if header is not None else sign(raw, secret, stamp)
    return await client.post("/webhooks/stripe", content=raw, headers=headers)


def webhook_url(gateway: httpx.AsyncClient) -> str:
    return str(gateway.base_url).rstrip("/") + "/webhooks/stripe"
