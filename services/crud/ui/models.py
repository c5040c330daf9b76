"""The ui_sessions table: one row per browser sign-in, found by the hash of its cookie.

The cookie holds a random token, never the API key; the row names the key, so every request
re-checks the key (through the key cache) and a revoked key ends its sessions.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class UiSession(Model):
    # SHA-256 of the cookie's token: a copy of the table signs nobody in.
    id = fields.CharField(max_length=64, primary_key=True)
    key_id = fields.CharField(max_length=36)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ui_sessions"
        indexes = (("expires_at",),)
