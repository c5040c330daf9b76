"""From the first schema (5f874e2) to the last one made without migrations (3bc598a).

A database made by either is brought here by the same steps: each one only does what is
missing (``services.runtime.schema.editors``). Besides the tables and columns that came since:
- the shared rate budget's tables (MySQL/MariaDB only);
- outbox rows written in the first event format, which had no ``changed`` (every event
  carried a whole snapshot to send) and no ``external_ids``, rewritten so that today's workers
  send them as they were meant: every path of a create or an update, and a change from a
  provider carrying its id there.
"""

import functools
import json
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from services.runtime.schema import data
from services.runtime.schema.operations import DialectSQL

BUDGET_TABLES = (
    """CREATE TABLE IF NOT EXISTS rate_budgets (
        name VARCHAR(64) NOT NULL PRIMARY KEY,
        capacity INT NOT NULL,
        window_s DOUBLE NOT NULL,
        paused_until DATETIME(6) NOT NULL DEFAULT '2000-01-01 00:00:00'
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS rate_budget_slots (
        budget VARCHAR(64) NOT NULL,
        slot INT NOT NULL,
        free_at DATETIME(6) NOT NULL DEFAULT '2000-01-01 00:00:00',
        holder VARCHAR(96) NOT NULL DEFAULT '',
        lease BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (budget, slot),
        KEY rate_budget_slots_free (budget, free_at),
        KEY rate_budget_slots_holder (budget, holder, lease)
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS rate_budget_members (
        budget VARCHAR(64) NOT NULL,
        member VARCHAR(96) NOT NULL,
        seen_at DATETIME(6) NOT NULL,
        PRIMARY KEY (budget, member)
    ) ENGINE=InnoDB""",
)

# The customer's synced fields in the first format (the only kind then).
FIRST_FORMAT_FIELDS = ("name", "email", "phone")
BATCH = 500


def _paths(snapshot: dict[str, Any]) -> list[str]:
    paths = [f for f in FIRST_FORMAT_FIELDS if f in snapshot]
    paths += [f"metadata.{key}" for key in snapshot.get("metadata") or {}]
    return sorted(paths)


async def rewrite_first_format_events(apps: Any, editor: BaseSchemaEditor) -> None:
    last = 0
    while True:
        batch = await data.rows(
            editor,
            "SELECT id, entity, entity_id, payload FROM outbox "
            "WHERE id > %s AND payload NOT LIKE %s ORDER BY id LIMIT %s",
            [last, '%"changed"%', BATCH],
        )
        if not batch:
            return
        for row in batch:
            last = int(row["id"])
            event = json.loads(row["payload"])
            if event.get("type") == "sync.result" or "changed" in event:
                continue
            action = str(event["type"]).split(".", 1)[1]
            event["changed"] = [] if action == "deleted" else _paths(event.get("data") or {})
            event["resend"] = []
            event["external_ids"] = {}
            origin = event.get("origin")
            if origin != "app":
                link = await data.rows(
                    editor,
                    "SELECT external_id FROM external_links WHERE entity = %s "
                    "AND entity_id = %s AND provider = %s AND external_id IS NOT NULL",
                    [row["entity"], row["entity_id"], origin],
                )
                if link:
                    event["external_ids"] = {origin: link[0]["external_id"]}
            await data.execute(
                editor,
                "UPDATE outbox SET payload = %s WHERE id = %s",
                [json.dumps(event, separators=(",", ":")), last],
            )


class Migration(migrations.Migration):
    dependencies = [("twoway", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ApiKey",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36),
                ),
                ("name", fields.CharField(default="", max_length=100)),
                ("scope", fields.CharField(max_length=10)),
                ("prefix", fields.CharField(max_length=12)),
                ("key_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "api_keys", "app": "twoway", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ConflictRecord",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("entity", fields.CharField(max_length=32)),
                ("entity_id", fields.CharField(max_length=64)),
                ("provider", fields.CharField(max_length=32)),
                ("path", fields.CharField(max_length=255)),
                ("app_value", fields.TextField(unique=False)),
                ("provider_value", fields.TextField(unique=False)),
                ("app_changed_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("provider_changed_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("winner", fields.CharField(max_length=16)),
                ("rule", fields.CharField(max_length=16)),
                ("provider_event_id", fields.CharField(max_length=255)),
                ("resolved_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "conflicts",
                "app": "twoway",
                "indexes": [Index(fields=["entity", "entity_id"]), Index(fields=["resolved_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Product",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36),
                ),
                ("version", fields.IntField(default=1)),
                (
                    "field_clock",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("name", fields.CharField(max_length=250)),
                ("description", fields.TextField(null=True, unique=False)),
                ("active", fields.BooleanField(default=True)),
                (
                    "metadata",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("unit_label", fields.CharField(null=True, max_length=12)),
            ],
            options={"table": "products", "app": "twoway", "pk_attr": "id"},
            bases=["SyncedModel"],
        ),
        ops.CreateModel(
            name="ReconcileRun",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("provider", fields.CharField(max_length=32)),
                ("entity", fields.CharField(max_length=32)),
                ("status", fields.CharField(max_length=16)),
                ("phase", fields.CharField(max_length=16)),
                ("cursor", fields.TextField(null=True, unique=False)),
                ("push_cursor", fields.CharField(null=True, max_length=64)),
                (
                    "counts",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "notes",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "finished_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "reconcile_runs",
                "app": "twoway",
                "indexes": [Index(fields=["provider", "entity", "status"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RepairCursor",
            fields=[
                (
                    "name",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100),
                ),
                ("cursor", fields.TextField(null=True, unique=False)),
                ("cursor_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("passes", fields.IntField(default=0)),
                (
                    "info",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "repair_cursors", "app": "twoway", "pk_attr": "name"},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Customer",
            name="field_clock",
            field=fields.JSONField(
                default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="ExternalLink",
            name="note",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="ExternalLink",
            name="shadow",
            field=fields.JSONField(
                default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        DialectSQL("mysql", BUDGET_TABLES),
        ops.RunPython(rewrite_first_format_events),
    ]
