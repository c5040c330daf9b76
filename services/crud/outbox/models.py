"""The outbox table: insert-only until the relay marks a row published (then purged later)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxEvent(Model):
    # Auto-increment: the relay publishes in id order, which per entity is version order
    # (writes to one entity are serialized by its row lock, so ids follow commits).
    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=36, unique=True)
    routing_key = fields.CharField(max_length=100)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64, db_index=True)
    version = fields.IntField()
    payload = fields.TextField()
    created_at = fields.DatetimeField()
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("published_at", "id"),)
