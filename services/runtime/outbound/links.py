"""The columns of a provider worker's own record of what it applied there.

One row per local entity: its id at the provider (once known), per path the newest version
written there (or known to be there, for changes that came from that provider), the newest
version seen, and whether it is deleted. The row is also the lock that serializes work on one
entity across worker processes (``SELECT ... FOR UPDATE`` for the whole handling of one event).
Each provider subclasses it with its own table.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ProviderLink(Model):
    id = fields.BigIntField(primary_key=True)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64)
    external_id = fields.CharField(max_length=255, null=True)
    version = fields.IntField(default=0)
    deleted = fields.BooleanField(default=False)
    # Path -> the newest version whose value of it the provider holds. An event only writes the
    # paths it is newer for, so a retried older event never overwrites a newer value.
    field_versions: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True
        unique_together = (("entity", "entity_id"),)
