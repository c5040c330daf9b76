import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Customer",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36),
                ),
                ("name", fields.CharField(max_length=200)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("phone", fields.CharField(null=True, max_length=40)),
                (
                    "metadata",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("version", fields.IntField(default=1)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "customers", "app": "twoway", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExternalLink",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("entity", fields.CharField(max_length=32)),
                ("entity_id", fields.CharField(null=True, max_length=64)),
                ("provider", fields.CharField(max_length=32)),
                ("external_id", fields.CharField(null=True, max_length=255)),
                ("status", fields.CharField(default="pending", max_length=16)),
                ("synced_version", fields.IntField(null=True)),
                ("last_error", fields.TextField(null=True, unique=False)),
                (
                    "inbound_occurred_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("deleted", fields.BooleanField(default=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "external_links",
                "app": "twoway",
                "unique_together": (
                    ("entity", "entity_id", "provider"),
                    ("provider", "entity", "external_id"),
                ),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InboxEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("provider", fields.CharField(max_length=32)),
                ("event_id", fields.CharField(max_length=255)),
                ("entity", fields.CharField(max_length=32)),
                ("external_id", fields.CharField(max_length=255)),
                ("entity_id", fields.CharField(null=True, max_length=64)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("outcome", fields.CharField(max_length=16)),
                ("payload", fields.TextField(unique=False)),
                (
                    "received_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "inbox",
                "app": "twoway",
                "unique_together": (("provider", "event_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("event_id", fields.CharField(unique=True, max_length=36)),
                ("routing_key", fields.CharField(max_length=100)),
                ("entity", fields.CharField(max_length=32)),
                ("entity_id", fields.CharField(db_index=True, max_length=64)),
                ("version", fields.IntField()),
                ("payload", fields.TextField(unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "published_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "outbox",
                "app": "twoway",
                "indexes": [Index(fields=["published_at", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
