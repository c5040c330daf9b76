"""The customers table."""

from __future__ import annotations

from tortoise import fields

from services.crud.synced import SyncedModel


class Customer(SyncedModel):
    # Indexed for the UI's prefix search (``name LIKE 'ab%'``).
    name = fields.CharField(max_length=200, db_index=True)
    email = fields.CharField(max_length=254, unique=True)
    phone = fields.CharField(max_length=40, null=True)
    metadata: fields.Field[dict[str, str]] = fields.JSONField(default=dict)

    class Meta:
        table = "customers"
