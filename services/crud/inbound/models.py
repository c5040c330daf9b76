"""The inbox: one row per provider event ever applied, written in the change's transaction.

The unique key (provider, event id) is what makes a redelivered event change nothing. Rows keep
the command as received, so what happened to an event can be read (and replayed) later, until
``retention`` deletes them (by ``received_at``, hence its index).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class InboxEntry(Model):
    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=32)
    event_id = fields.CharField(max_length=255)
    entity = fields.CharField(max_length=32)
    external_id = fields.CharField(max_length=255)
    entity_id = fields.CharField(max_length=64, null=True)
    occurred_at = fields.DatetimeField()
    outcome = fields.CharField(max_length=16)
    payload = fields.TextField()
    received_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "inbox"
        unique_together = (("provider", "event_id"),)
        # An entity's recent provider events (the UI's entity page).
        indexes = (("entity", "entity_id"),)
