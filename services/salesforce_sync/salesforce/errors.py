"""Salesforce's failures in the runtime's taxonomy (``services.runtime.errors``), as a tree.

Salesforce answers errors as ``[{"message", "errorCode", "fields"}]``:

    an answer
    ├── 401 INVALID_SESSION_ID          -> the token is refreshed once; again: Permanent (auth)
    ├── 403 REQUEST_LIMIT_EXCEEDED      -> Retryable: the org's daily allocation is used up
    ├── UNABLE_TO_LOCK_ROW (any status) -> Retryable
    ├── 5xx                             -> Retryable
    └── other 3xx/4xx (validation...)   -> Permanent, the error codes in its reason
    no answer (timeout, connection)     -> Retryable
"""

from __future__ import annotations

from typing import Any

import httpx

from services.runtime.errors import Permanent, Retryable

RETRYABLE_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW"})
LIMIT_PAUSE_S = 300.0
"""How long the whole deployment waits after REQUEST_LIMIT_EXCEEDED before trying again."""


class SessionExpired(Exception):
    """401 INVALID_SESSION_ID: the token must be fetched again."""


def codes_of(response: httpx.Response) -> list[str]:
    try:
        body: Any = response.json()
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    return [str(i["errorCode"]) for i in items if isinstance(i, dict) and "errorCode" in i]


def messages_of(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200]
    items = body if isinstance(body, list) else [body]
    return "; ".join(str(i.get("message", "")) for i in items if isinstance(i, dict))[:500]


def classify(response: httpx.Response) -> Retryable | Permanent:
    status = response.status_code
    codes = codes_of(response)
    detail = f"salesforce {status} {','.join(codes) or '-'}: {messages_of(response)}"
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return Retryable(detail, retry_after=LIMIT_PAUSE_S)
    if status >= 500 or RETRYABLE_CODES & set(codes):
        return Retryable(detail)
    return Permanent(detail, reason=f"salesforce_{status}_{'_'.join(codes) or 'error'}")
