import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="StripeLink",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("entity", fields.CharField(max_length=32)),
                ("entity_id", fields.CharField(max_length=64)),
                ("external_id", fields.CharField(null=True, max_length=255)),
                ("version", fields.IntField(default=0)),
                ("deleted", fields.BooleanField(default=False)),
                (
                    "metadata_keys",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("from_provider", fields.BooleanField(default=False)),
                ("provider_email", fields.CharField(null=True, max_length=254)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "stripe_links",
                "app": "stripe",
                "unique_together": (("entity", "entity_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
