"""Stripe's failures in the runtime's taxonomy (``services.runtime.errors``), as a tree:

stripe.StripeError
├── header Stripe-Should-Retry: true   -> Retryable   (Stripe's word wins)
├── header Stripe-Should-Retry: false  -> Permanent
├── APIConnectionError (network, timeout) -> Retryable
├── 429 RateLimitError                 -> RateLimited (Retryable, with Retry-After); the
│                                         caller pauses the deployment's budget either way
├── 409 (concurrent idempotent request), 5xx, no status -> Retryable
└── any other 4xx (validation, auth, permission, idempotency misuse) -> Permanent
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import stripe

from services.runtime.errors import Permanent, Retryable


class RateLimited(Retryable):
    """Stripe answered 429: the whole deployment should slow down, not only this message."""


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    raw = _header(headers, "retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def is_rate_limited(exc: stripe.StripeError) -> bool:
    """Stripe said the account is over its rate limit (429)."""
    return isinstance(exc, stripe.RateLimitError) or exc.http_status == 429


def classify(exc: stripe.StripeError) -> Retryable | Permanent:
    status = exc.http_status
    detail = f"stripe {status or 'no response'}: {exc.user_message or type(exc).__name__}"
    should_retry = _header(exc.headers, "stripe-should-retry")
    wait = retry_after(exc.headers)
    if is_rate_limited(exc) and should_retry != "false":
        return RateLimited(detail, retry_after=wait)
    if should_retry == "true":
        return Retryable(detail, retry_after=wait)
    if should_retry == "false":
        return Permanent(detail, reason=f"stripe_{status or 'error'}")
    if isinstance(exc, stripe.APIConnectionError) or status is None:
        return Retryable(detail, retry_after=wait)
    if status >= 500 or status == 409:
        return Retryable(detail, retry_after=wait)
    code = f"_{exc.code}" if exc.code else ""
    return Permanent(detail, reason=f"stripe_{status}{code}")


def status_label(exc: stripe.StripeError) -> str:
    """The metrics' status of a failed request: its HTTP status, else what kept the answer."""
    if exc.http_status is not None:
        return str(exc.http_status)
    if isinstance(exc.__cause__, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, stripe.APIConnectionError):
        return "connection_error"
    return "error"


def is_missing(exc: stripe.StripeError) -> bool:
    """The object does not exist at Stripe (deleted there, or never created)."""
    return exc.http_status == 404 or exc.code == "resource_missing"
