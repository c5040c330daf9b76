"""What twoway leaves at a provider to recognize its own objects and its own requests.

- ``LOCAL_ID_METADATA_KEY``: the provider-side metadata key holding the local id. Outbound
  writes set it; inbound normalizers lift it out into ``local_id``, so it never shows up in the
  local entity's metadata, and the API refuses it as a user key.
- Idempotency keys: ``twoway-<event id>[-<digest>]``. A provider that reports which request
  caused a change (Stripe: ``request.idempotency_key`` on events) thereby names the twoway event
  whose write it echoes, so the echo is recognized exactly, not by comparing values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

LOCAL_ID_METADATA_KEY = "twoway_id"

_PREFIX = "twoway-"
_UUID_CHARS = 36


def idempotency_key(event_id: UUID, params: Any = None) -> str:
    """The key of the request that carries ``event_id``'s change.

    With ``params`` the key also names what is sent: a redelivery that sends the same replays
    the first answer, while one that must send less (a newer version took some fields over)
    gets a key of its own instead of Stripe's "same key, other parameters" error.
    """
    if params is None:
        return f"{_PREFIX}{event_id}"
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"{_PREFIX}{event_id}-{digest}"


def event_id_of_key(key: object) -> UUID | None:
    """The twoway event id an idempotency key was made from; None if it is not one of ours."""
    if not isinstance(key, str) or not key.startswith(_PREFIX):
        return None
    raw = key[len(_PREFIX) : len(_PREFIX) + _UUID_CHARS]
    try:
        return UUID(raw)
    except ValueError:
        return None
