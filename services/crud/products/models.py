"""The products table."""

from __future__ import annotations

from tortoise import fields

from services.crud.synced import SyncedModel


class Product(SyncedModel):
    # Indexed for the UI's prefix search (``name LIKE 'ab%'``).
    name = fields.CharField(max_length=250, db_index=True)
    description = fields.TextField(null=True)
    active = fields.BooleanField(default=True)
    metadata: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    unit_label = fields.CharField(max_length=12, null=True)

    class Meta:
        table = "products"
