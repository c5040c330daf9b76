"""The worker's own link table is folded into ``external_links``, the one record of each entity
at each provider (``services.runtime.schema.link_fold``). The table stays for one release, unread,
so that the previous release still finds it during a rolling deploy; the next one drops it."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from services.runtime.schema.link_fold import fold
from services.runtime.schema.operations import ForgetModel


async def fold_links(apps: Any, editor: BaseSchemaEditor) -> None:
    await fold(editor, "salesforce", "salesforce_links")


class Migration(migrations.Migration):
    dependencies = [("salesforce", "0001_initial"), ("twoway", "0003_one_link_record")]

    initial = False

    operations = [
        ops.RunPython(fold_links),
        ForgetModel("SalesforceLink"),
    ]
