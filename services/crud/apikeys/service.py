"""Creating, listing, revoking and checking API keys.

A key is 256 random bits (``tw_`` + 43 URL-safe characters), shown once at creation. Only its
SHA-256 is stored: with that much entropy a slow password hash adds nothing (there is no
dictionary to try), and a plain digest lets a request find its key by an indexed lookup.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet

from services.crud.apikeys.models import ApiKey
from services.crud.ids import new_id

KEY_PREFIX = "tw_"
SHOWN_PREFIX = 8


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"

    def allows(self, needed: Scope) -> bool:
        """``write`` may do everything ``read`` may."""
        return self is Scope.WRITE or needed is Scope.READ


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


async def create_key(scope: Scope, name: str = "") -> tuple[ApiKey, str]:
    """A new key: its row and the key itself (which is not stored anywhere)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = await ApiKey.create(
        id=new_id(),
        name=name,
        scope=scope.value,
        prefix=key[:SHOWN_PREFIX],
        key_hash=digest(key),
        created_at=datetime.now(UTC),
    )
    return row, key


async def list_keys() -> list[ApiKey]:
    return await ApiKey.all().order_by("id")


async def revoke_key(key_id: str) -> bool:
    """Revoke the key; False when there is no such key or it was revoked already."""
    changed = await ApiKey.filter(id=key_id, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )
    return changed > 0


@dataclass(frozen=True)
class Grant:
    key_id: str
    scope: Scope


class KeyVerifier:
    """Finds the grant of a presented key, remembering valid keys for ``ttl_s`` seconds.

    The memory spares every request a database round trip; its price is that a revoked key
    keeps working in a running process for up to ``ttl_s`` (``0``: look up every time).
    Unknown keys are never remembered, so guessing cannot fill the memory.
    """

    def __init__(self, ttl_s: float, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._known: dict[str, tuple[Grant, float]] = {}

    async def grant(self, key: str) -> Grant | None:
        hashed = digest(key)
        return await self._remembered(hashed, lambda: ApiKey.filter(key_hash=hashed))

    async def grant_of_id(self, key_id: str) -> Grant | None:
        """The grant of the key with this id (a browser session names its key by id)."""
        return await self._remembered(f"id:{key_id}", lambda: ApiKey.filter(id=key_id))

    async def _remembered(self, memo: str, rows: Callable[[], QuerySet[ApiKey]]) -> Grant | None:
        now = time.monotonic()
        known = self._known.get(memo)
        if known is not None and known[1] > now:
            return known[0]
        row = await rows().filter(revoked_at__isnull=True).first()
        if row is None:
            self._known.pop(memo, None)
            return None
        grant = Grant(row.id, Scope(row.scope))
        if self.ttl_s > 0:
            if len(self._known) >= self.max_entries:
                self._known.clear()
            self._known[memo] = (grant, now + self.ttl_s)
        return grant
