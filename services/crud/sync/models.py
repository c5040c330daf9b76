"""The conflicts table: one row per path resolved between the app and a provider.

Written in the transaction of the inbound change that found the conflict, so a resolution is
recorded exactly once (a redelivered event is a duplicate in the inbox and changes nothing).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ConflictRecord(Model):
    id = fields.BigIntField(primary_key=True)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64)
    provider = fields.CharField(max_length=32)
    path = fields.CharField(max_length=255)
    # JSON text: a plain string must not be read back as JSON (as a JSONField would).
    app_value = fields.TextField()
    provider_value = fields.TextField()
    app_changed_at = fields.DatetimeField()
    provider_changed_at = fields.DatetimeField()
    winner = fields.CharField(max_length=16)
    rule = fields.CharField(max_length=16)
    provider_event_id = fields.CharField(max_length=255)
    resolved_at = fields.DatetimeField()

    class Meta:
        table = "conflicts"
        indexes = (("entity", "entity_id"), ("resolved_at",))
