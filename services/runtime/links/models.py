"""The one record of each entity at each provider: ``external_links``.

One row per (entity kind, local id, provider), written under its row lock (``FOR UPDATE``) by
every process that learns or changes something about the link:
- the provider worker, for the whole handling of one event (the lock also serializes work on
  one entity across worker processes): ``external_id`` once it created or found the object,
  ``field_versions``, ``handled_version``, ``create_attempt``, ``deleted``;
- the CRUD service's sync-result consumer: ``status``, ``synced_version``, ``last_error``,
  ``note``, and the shadow of the paths a result wrote;
- the CRUD service's inbound path (webhooks, catch-up, the drift audit, reconcile): it resolves
  ``external_id`` to the local entity, links a new one, keeps the newest
  ``inbound_occurred_at``, merges into ``shadow``, and marks a provider's delete.

Why one row, not one per side: a worker deciding "not linked yet, so create" must know every
link made before, by reconcile, by an inbound webhook or by another worker process. Two
records of one fact can disagree; one cannot.

``shadow`` is the provider-side state last known to agree with the app, path by path
(``services.runtime.links.shadow``): the base of the three-way merge and of echo detection,
and, with ``field_versions``, what tells the worker a path is already there.

The status shown to users is derived: ``synced`` when ``synced_version`` >= the entity's
version, ``failed`` when the newest result failed, else ``pending``.

``deleted``: the object is gone at the provider (deleted there, or by the worker): nothing may
bring it back, so the row stays as a tombstone and a late update is ignored. ``entity_id`` is
null for a tombstone of an external object that was never known locally.
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
    # The worker's own: path -> the newest version it wrote there (or knows to be there, for
    # changes that came from the provider). An event only writes the paths it is newer for, so
    # a retried older event never overwrites a newer value.
    field_versions: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    handled_version = fields.IntField(default=0)
    """The newest version a worker has handled."""
    create_attempt = fields.CharField(max_length=255, null=True)
    """The idempotency key of a create sent before the object's id was known here: if its
    answer was lost, the object may exist there; it is looked for before creating again,
    unless the same key is still young enough for the provider to replay the create."""
    create_attempted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "external_links"
        unique_together = (
            ("entity", "entity_id", "provider"),
            ("provider", "entity", "external_id"),
        )
