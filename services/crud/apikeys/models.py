"""The api_keys table: a key's hash, never the key."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    id = fields.CharField(max_length=36, primary_key=True)
    name = fields.CharField(max_length=100, default="")
    scope = fields.CharField(max_length=10)
    # The first characters of the key, so that `twoway apikey list` can tell keys apart.
    prefix = fields.CharField(max_length=12)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"
