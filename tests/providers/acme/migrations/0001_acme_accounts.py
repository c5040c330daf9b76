"""``acme_accounts``: the Acme account the deployment is bound to (``accounts``). SQL of both
dialects alike; repeatable, as every migration step is."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.RunSQL(
            """CREATE TABLE IF NOT EXISTS acme_accounts (
                account_id VARCHAR(64) NOT NULL PRIMARY KEY,
                name VARCHAR(255) NOT NULL,
                bound_at DATETIME(6) NOT NULL
            )"""
        ),
    ]
