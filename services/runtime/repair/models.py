"""The repair jobs' own state: reconcile runs (their checkpoints) and the cursors of the
continuous jobs (catch-up, audit). Generic: one row per provider and kind or job."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class ReconcileRun(Model):
    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=32)
    entity = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16)  # running, done, abandoned
    phase = fields.CharField(max_length=16)  # link, push, done
    cursor = fields.TextField(null=True)
    """The provider's paging cursor: every object before it is done."""
    push_cursor = fields.CharField(max_length=64, null=True)
    """The local id every entity up to which is done with the push."""
    counts: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    notes: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    """The objects a person should look at: ambiguous, failed, gone, held back."""
    started_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reconcile_runs"
        indexes = (("provider", "entity", "status"),)


class RepairCursor(Model):
    name = fields.CharField(max_length=100, primary_key=True)
    cursor = fields.TextField(null=True)
    cursor_at = fields.DatetimeField(null=True)
    """The provider's time of what ``cursor`` names (an event's creation), where known."""
    passes = fields.IntField(default=0)
    info: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "repair_cursors"


MODELS_MODULE = __name__
