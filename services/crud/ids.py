"""Time-ordered ids (UUIDv7 layout), so that ordering by id is ordering by creation."""

from __future__ import annotations

import os
import re
import time
import uuid

ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_ID = re.compile(ID_PATTERN)


def new_id() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 68) << 64 & (((1 << 12) - 1) << 64)
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def is_id(value: str) -> bool:
    """Whether ``value`` has the form of an id this service hands out."""
    return _ID.match(value) is not None
