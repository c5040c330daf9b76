"""The products table."""

from __future__ import annotations

from tortoise import fields

from services.crud.synced import SyncedModel


class Product(SyncedModel):
    name = fields.CharField(max_length=250)
    description = fields.TextField(null=True)
    active = fields.BooleanField(default=True)
    metadata: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    unit_label = fields.CharField(max_length=12, null=True)

    class Meta:
        table = "products"
