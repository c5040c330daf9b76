from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Gadget",
            fields=[
                ("id", fields.IntField(primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=50)),
            ],
            options={"table": "gadgets", "app": "drifted", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
