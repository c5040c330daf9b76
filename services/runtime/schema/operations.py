"""Migration operations of twoway's own, beside Tortoise's (``tortoise.migrations.operations``).

- ``DialectSQL``: raw SQL for one dialect only (the shared rate budget's tables exist on
  MySQL/MariaDB alone: SQLite runs one process, whose budget lives in memory). Each statement
  must be repeatable (``CREATE TABLE IF NOT EXISTS``), as every migration step is.
- ``ForgetModel``: the model leaves the schema's history, its table stays. A table the code no
  longer reads is dropped one release later (expand, then contract), so that the previous
  release, still running during a rolling deploy, keeps its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.migrations.operations import DeleteModel, RunSQL
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State


class DialectSQL(RunSQL):
    def __init__(self, dialect: str, statements: Sequence[str]) -> None:
        super().__init__(list(statements))
        self.dialect = dialect

    def describe(self) -> str:
        return f"Run SQL on {self.dialect}"

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and self.dialect == state_editor.DIALECT:
            await super().database_forward(app_label, old_state, new_state, state_editor)


class ForgetModel(DeleteModel):
    def describe(self) -> str:
        return f"Forget model {self.name} (its table stays until a later release drops it)"

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None
