from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("twoway", "0003_one_link_record")]

    initial = False

    operations = [
        ops.CreateModel(
            name="UiSession",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("key_id", fields.CharField(max_length=36)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ui_sessions",
                "app": "twoway",
                "indexes": [Index(fields=["expires_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AlterField(
            model_name="Customer",
            name="name",
            field=fields.CharField(db_index=True, max_length=200),
        ),
        ops.AddIndex(
            model_name="InboxEntry",
            index=Index(fields=["entity", "entity_id"]),
        ),
        ops.AlterField(
            model_name="Product",
            name="name",
            field=fields.CharField(db_index=True, max_length=250),
        ),
    ]
