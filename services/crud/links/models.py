"""The CRUD service's record of each entity at each provider.

One row per (entity kind, local id, provider). It is written by two flows:
- outbound: sync-result events from a provider worker set ``external_id``, ``synced_version``,
  ``status`` and ``last_error``, and the shadow of the paths they wrote;
- inbound: commands from a provider's webhooks resolve ``external_id`` to the local entity,
  ``inbound_occurred_at`` keeps the newest one applied, and the merge updates the shadow.

``shadow`` is the provider-side state last known to agree with the app, path by path
(``services.crud.sync.shadow``): the base of the three-way merge and of echo detection.

The status shown to users is derived: ``synced`` when ``synced_version`` >= the entity's
version, ``failed`` when the newest result failed, else ``pending``.

A row outlives a deleted entity (``deleted`` = True) as a tombstone, so a late update from the
provider cannot bring the entity back. ``entity_id`` is null for a tombstone of an external
object that was never known locally.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class ExternalLink(Model):
    id = fields.BigIntField(primary_key=True)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64, null=True)
    provider = fields.CharField(max_length=32)
    external_id = fields.CharField(max_length=255, null=True)
    status = fields.CharField(max_length=16, default="pending")
    synced_version = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    # What to know of the last successful sync (e.g. archived at the provider, not deleted).
    note = fields.TextField(null=True)
    inbound_occurred_at = fields.DatetimeField(null=True)
    deleted = fields.BooleanField(default=False)
    shadow: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "external_links"
        unique_together = (
            ("entity", "entity_id", "provider"),
            ("provider", "entity", "external_id"),
        )
