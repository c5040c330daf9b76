"""The customers table."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    id = fields.CharField(max_length=36, primary_key=True)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, unique=True)
    phone = fields.CharField(max_length=40, null=True)
    metadata: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    version = fields.IntField(default=1)
    # Per synced path, the version that last changed it and when (services.crud.sync.clock).
    field_clock: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "customers"
