"""Helpers for data migrations (``RunPython``): plain SQL on the migration's connection.

A data migration is written against the tables as they are at that point of the history, never
against today's models or code (which move on), and it must be repeatable like every step:
it selects only rows still in the old form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.migrations.schema_editor.base import BaseSchemaEditor


def _placeholders(editor: BaseSchemaEditor, sql: str) -> str:
    return sql.replace("%s", "?") if editor.DIALECT == "sqlite" else sql


async def rows(
    editor: BaseSchemaEditor, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """``sql`` with ``%s`` placeholders (either dialect); its rows as dicts."""
    _, found = await editor.client.execute_query(_placeholders(editor, sql), list(params))
    return [dict(r) for r in found]


async def execute(editor: BaseSchemaEditor, sql: str, params: Sequence[Any] = ()) -> None:
    await editor.client.execute_query(_placeholders(editor, sql), list(params))


async def columns(editor: BaseSchemaEditor, table: str) -> set[str]:
    if editor.DIALECT == "mysql":
        found = await rows(
            editor,
            "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table],
        )
    else:
        found = await rows(editor, f"PRAGMA table_info('{table}')")
    return {str(r["name"]) for r in found}
