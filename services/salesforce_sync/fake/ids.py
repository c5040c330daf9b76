"""Salesforce ids: a 3-character key prefix, 12 characters, and the 3-character case checksum
that makes the 18-character form case-insensitive."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_CHECKSUM = string.ascii_uppercase + "012345"

CONTACT = "003"
NOTIFICATION = "04l"
ACTION = "04k"


def checksum(id15: str) -> str:
    out = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if c.isupper())
        out += _CHECKSUM[bits]
    return out


def new_id(prefix: str) -> str:
    """A new 18-character id with ``prefix`` (``FK`` in the instance part marks the fake)."""
    id15 = prefix + "FK0" + "".join(secrets.choice(_ALPHABET) for _ in range(9))
    return id15 + checksum(id15)
