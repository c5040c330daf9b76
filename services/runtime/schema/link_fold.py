"""0.2.0's fold of a provider worker's own link table into ``external_links`` (the one record
of each entity at each provider), used by each provider's own migration.

Per row of the worker's table, into the entity's ``external_links`` row for that provider
(made if the CRUD side had none): its object's id where the CRUD side had none, its per-path
versions, the version it handled, its delete. Where both sides held different ids for one
entity (the duplicate this fold ends), the CRUD side's id is kept, the one inbound changes and
the API show, and the other is logged for a person to look at. A row already folded (its
``handled_version`` set) is left alone, so the step can run again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from services.runtime.schema import data

log = logging.getLogger("twoway.migrate")


async def fold(editor: BaseSchemaEditor, provider: str, table: str) -> None:
    if "field_versions" not in await data.columns(editor, table):
        return  # no such table here
    rows = await data.rows(
        editor,
        f"SELECT entity, entity_id, external_id, version, deleted, field_versions FROM {table}",
    )
    for row in rows:
        links = await data.rows(
            editor,
            "SELECT id, external_id, handled_version FROM external_links "
            "WHERE entity = %s AND entity_id = %s AND provider = %s",
            [row["entity"], row["entity_id"], provider],
        )
        versions = row["field_versions"]
        if not isinstance(versions, str):
            versions = json.dumps(versions)
        if not links:
            await _insert(editor, provider, row, versions)
            continue
        link = links[0]
        if link["handled_version"] and int(link["handled_version"]) > 0:
            continue
        external_id = link["external_id"] or row["external_id"]
        if link["external_id"] and row["external_id"] and link["external_id"] != row["external_id"]:
            log.warning(
                "two objects at %s for %s %s: kept %s, the worker's %s is no longer linked",
                provider,
                row["entity"],
                row["entity_id"],
                link["external_id"],
                row["external_id"],
            )
        await data.execute(
            editor,
            "UPDATE external_links SET external_id = %s, field_versions = %s, "
            "handled_version = %s, deleted = (deleted OR %s) WHERE id = %s",
            [external_id, versions, int(row["version"]), bool(row["deleted"]), link["id"]],
        )


async def _insert(
    editor: BaseSchemaEditor, provider: str, row: dict[str, object], versions: str
) -> None:
    external_id = row["external_id"]
    if external_id is not None and await data.rows(
        editor,
        "SELECT 1 FROM external_links WHERE provider = %s AND entity = %s AND external_id = %s",
        [provider, row["entity"], external_id],
    ):
        log.warning(
            "%s %s of %s is linked to another entity already",
            provider,
            external_id,
            row["entity_id"],
        )
        external_id = None
    await data.execute(
        editor,
        "INSERT INTO external_links (entity, entity_id, provider, external_id, status, "
        "deleted, shadow, updated_at, field_versions, handled_version) "
        "VALUES (%s, %s, %s, %s, 'pending', %s, '{}', %s, %s, %s)",
        [
            row["entity"],
            row["entity_id"],
            provider,
            external_id,
            bool(row["deleted"]),
            datetime.now(UTC),
            versions,
            int(str(row["version"])),
        ],
    )
