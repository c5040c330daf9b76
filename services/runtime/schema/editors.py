"""Schema editors whose every change can be run again: MySQL DDL is not transactional.

A migration that fails halfway on MySQL/MariaDB keeps what it did, and its row in
``tortoise_migrations`` is written only after its last operation. So each change asks the
database first and does only what is missing: running the migration again finishes it.

- a table is created only if it does not exist, dropped only if it does;
- a column is added only if it is missing, dropped only if present;
- an index or unique key is added only if no index of that name exists, dropped only if one does;
- a NOT NULL column without a database default is added as NULL, filled with the field's
  default, then made NOT NULL, so that adding it to a table with rows works (MySQL would
  otherwise fill it with its type's zero value, which a JSON column's check refuses; SQLite
  refuses the ADD outright). SQLite is given the default literally instead.

In ``collect_sql`` mode (``twoway migrate --sql``) the same questions are asked of the live
database, so what is printed is what would run.
"""

from __future__ import annotations

from copy import copy
from typing import Any

from tortoise.fields.base import Field
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.migrations.schema_editor import MySQLSchemaEditor, SqliteSchemaEditor
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.models import Model


class _Introspection:
    """What the database holds now; one implementation per dialect."""

    client: Any

    async def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        _, rows = await self.client.execute_query(sql, params)
        return list(rows)

    async def has_table(self, table: str) -> bool:
        raise NotImplementedError

    async def columns(self, table: str) -> dict[str, bool]:
        """Column name -> nullable."""
        raise NotImplementedError

    async def indexes(self, table: str) -> set[str]:
        raise NotImplementedError


class _MySQLIntrospection(_Introspection):
    async def has_table(self, table: str) -> bool:
        return bool(
            await self._rows(
                "SELECT 1 FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [table],
            )
        )

    async def columns(self, table: str) -> dict[str, bool]:
        rows = await self._rows(
            "SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table],
        )
        return {str(r["name"]): r["nullable"] == "YES" for r in rows}

    async def indexes(self, table: str) -> set[str]:
        rows = await self._rows(
            "SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table],
        )
        return {str(r["name"]) for r in rows}


class _SqliteIntrospection(_Introspection):
    async def has_table(self, table: str) -> bool:
        return bool(
            await self._rows(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
            )
        )

    async def columns(self, table: str) -> dict[str, bool]:
        rows = await self._rows(f"PRAGMA table_info('{table}')", [])
        return {str(r["name"]): not r["notnull"] for r in rows}

    async def indexes(self, table: str) -> set[str]:
        rows = await self._rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
        )
        return {str(r["name"]) for r in rows}


def _column(model: type[Model], field: Field[Any]) -> str:
    return str(
        field.source_field
        or model._meta.fields_db_projection.get(field.model_field_name, field.model_field_name)
    )


def _table(model: type[Model]) -> str:
    return str(model._meta.db_table)


class _Repeatable(_Introspection, BaseSchemaEditor):
    """The checks; mixed in before a dialect's editor."""

    PARAM: str

    async def create_model(self, model: type[Model]) -> None:
        if not await self.has_table(_table(model)):
            await super().create_model(model)

    async def delete_model(self, model: type[Model]) -> None:
        if await self.has_table(_table(model)):
            await super().delete_model(model)

    async def rename_table(self, model: type[Model], old_name: str, new_name: str) -> None:
        if await self.has_table(old_name) and not await self.has_table(new_name):
            await super().rename_table(model, old_name, new_name)

    async def add_field(self, model: type[Model], field_name: str) -> None:
        field = model._meta.fields_map[field_name]
        column = _column(model, field)
        present = await self.columns(_table(model))
        if field.null or field.has_db_default() or field.default is None:
            if column not in present:
                await super().add_field(model, field_name)
            return
        await self._add_filled(model, field_name, field, column, present)

    async def _add_filled(
        self,
        model: type[Model],
        field_name: str,
        field: Field[Any],
        column: str,
        present: dict[str, bool],
    ) -> None:
        raise NotImplementedError

    async def remove_field(self, model: type[Model], field: Field[Any]) -> None:
        if _column(model, field) in await self.columns(_table(model)):
            await super().remove_field(model, field)

    async def add_index(self, model: type[Model], index: Index) -> None:
        if self._index_name_for_model(model, index) not in await self.indexes(_table(model)):
            await super().add_index(model, index)

    async def remove_index(self, model: type[Model], index: Index) -> None:
        if self._index_name_for_model(model, index) in await self.indexes(_table(model)):
            await super().remove_index(model, index)

    async def add_constraint(self, model: type[Model], constraint: UniqueConstraint) -> None:  # type: ignore[override]
        if self._constraint_name_for_model(model, constraint) not in await self.indexes(
            _table(model)
        ):
            await super().add_constraint(model, constraint)

    async def _fill(self, model: type[Model], field: Field[Any], column: str) -> None:
        default = field.default() if callable(field.default) else field.default
        value = field.to_db_value(default, model)
        table = self._qualify_table_name(_table(model), model._meta.schema)
        quoted = self.quote(column)
        sql = f"UPDATE {table} SET {quoted} = {self.PARAM} WHERE {quoted} IS NULL"
        if self.collect_sql:
            self.collected_sql.append(f"{sql}  -- params: {[value]!r}")
        else:
            await self.client.execute_query(sql, [value])


class RepeatableMySQLEditor(_Repeatable, _MySQLIntrospection, MySQLSchemaEditor):
    PARAM = "%s"

    async def _add_filled(
        self,
        model: type[Model],
        field_name: str,
        field: Field[Any],
        column: str,
        present: dict[str, bool],
    ) -> None:
        if column not in present:
            nullable = copy(field)
            nullable.null = True
            model._meta.fields_map[field_name] = nullable
            try:
                await MySQLSchemaEditor.add_field(self, model, field_name)
            finally:
                model._meta.fields_map[field_name] = field
        if present.get(column, True):
            await self._fill(model, field, column)
            table = self._qualify_table_name(_table(model), model._meta.schema)
            await self._run_sql(self._build_modify_column_sql(model, field, table))


class RepeatableSqliteEditor(_Repeatable, _SqliteIntrospection, SqliteSchemaEditor):
    PARAM = "?"

    async def _add_filled(
        self,
        model: type[Model],
        field_name: str,
        field: Field[Any],
        column: str,
        present: dict[str, bool],
    ) -> None:
        if column in present:
            return
        default = field.default() if callable(field.default) else field.default
        literal = self._escape_default_value(field.to_db_value(default, model))
        sql_type = field.get_for_dialect(self.DIALECT, "SQL_TYPE")
        table = self._qualify_table_name(_table(model), model._meta.schema)
        await self._run_sql(
            f"ALTER TABLE {table} ADD COLUMN {self.quote(column)} {sql_type} NOT NULL "
            f"DEFAULT {literal}"
        )

    async def remove_field(self, model: type[Model], field: Field[Any]) -> None:
        # SQLite (3.35+) drops a column in place; Tortoise's rebuild of the table would lose
        # its indexes and unique keys.
        column = _column(model, field)
        if column in await self.columns(_table(model)):
            table = self._qualify_table_name(_table(model), model._meta.schema)
            await self._run_sql(f"ALTER TABLE {table} DROP COLUMN {self.quote(column)}")
