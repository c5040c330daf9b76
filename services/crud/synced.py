"""The columns every synced entity's table has, besides its kind's own fields."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class SyncedModel(Model):
    id = fields.CharField(max_length=36, primary_key=True)
    version = fields.IntField(default=1)
    # Per synced path, the version that last changed it, when, and from where
    # (services.crud.sync.clock).
    field_clock: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        abstract = True
