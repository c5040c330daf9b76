"""The worker's record per path instead of per entity (the schema until 3bc598a).

The first schema (5f874e2) kept three columns that are gone; what they meant is carried over:
- ``metadata_keys`` (the metadata keys last written) and ``version`` (the newest version
  applied, always as a whole snapshot): every synced path the worker wrote is at ``version``
  in ``field_versions``, which is what today's worker compares an event's version with;
- ``from_provider`` (the customer first came from Stripe, its id unknown to the worker) and
  ``provider_email`` (how to find it there): the id the CRUD side holds for it (its
  ``external_links`` row, written by the same inbound change) becomes ``external_id``, so
  the customer is never created twice.
"""

import functools
import json
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from services.runtime.schema import data

SCALARS = ("name", "email", "phone")


async def carry_first_columns(apps: Any, editor: BaseSchemaEditor) -> None:
    if "metadata_keys" not in await data.columns(editor, "stripe_links"):
        return  # carried already, or a database that never had them
    rows = await data.rows(
        editor,
        "SELECT id, entity, entity_id, external_id, version, metadata_keys, from_provider "
        "FROM stripe_links WHERE field_versions = %s",
        ["{}"],
    )
    for row in rows:
        external_id = row["external_id"]
        if external_id is None and row["from_provider"]:
            known = await data.rows(
                editor,
                "SELECT external_id FROM external_links WHERE entity = %s AND entity_id = %s "
                "AND provider = 'stripe' AND external_id IS NOT NULL",
                [row["entity"], row["entity_id"]],
            )
            external_id = known[0]["external_id"] if known else None
        versions: dict[str, int] = {}
        if external_id is not None and row["version"]:
            keys = json.loads(row["metadata_keys"] or "[]")
            paths = [*SCALARS, *(f"metadata.{key}" for key in keys)]
            versions = {path: int(row["version"]) for path in paths}
        await data.execute(
            editor,
            "UPDATE stripe_links SET field_versions = %s, external_id = %s WHERE id = %s",
            [json.dumps(versions, separators=(",", ":")), external_id, row["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [("stripe", "0001_initial"), ("twoway", "0001_initial")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StripeLink",
            name="field_versions",
            field=fields.JSONField(
                default=dict,
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
        ops.RunPython(carry_first_columns),
        ops.RemoveField(model_name="StripeLink", name="metadata_keys"),
        ops.RemoveField(model_name="StripeLink", name="from_provider"),
        ops.RemoveField(model_name="StripeLink", name="provider_email"),
    ]
