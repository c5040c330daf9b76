import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("twoway", "0002_earlier_releases")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ExternalLink",
            name="create_attempt",
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name="ExternalLink",
            name="create_attempted_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="ExternalLink",
            name="field_versions",
            field=fields.JSONField(
                default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="ExternalLink",
            name="handled_version",
            field=fields.IntField(default=0),
        ),
    ]
