"""Applying, listing and printing the schema's migrations (Tortoise ORM's built-in ones).

Tortoise's executor plans and records; twoway adds the lock (``lock``), repeatable schema
changes (``editors``), a failure reported in one line, and the model check, which needs no
database: it compares the models with what the migration files build.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.writer import MigrationWriter

from services.runtime.schema.editors import RepeatableMySQLEditor, RepeatableSqliteEditor
from services.runtime.schema.history import SchemaApp, tortoise_config
from services.runtime.schema.lock import migration_lock


class MigrationFailed(Exception):
    """A migration failed; the message names it and says why, in one line."""


class _Executor(MigrationExecutor):
    def _schema_editor(self, atomic: bool = True, collect_sql: bool = False) -> BaseSchemaEditor:
        editor = (
            RepeatableMySQLEditor
            if self.connection.capabilities.dialect == "mysql"
            else RepeatableSqliteEditor
        )
        return editor(self.connection, atomic=atomic, collect_sql=collect_sql)


def _apps_config(apps: Iterable[SchemaApp]) -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = tortoise_config("", apps)["apps"]
    return config


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r'Module ".*migrations" has no models')
        yield


@contextlib.asynccontextmanager
async def _opened(database_url: str, apps: Sequence[SchemaApp]) -> AsyncIterator[_Executor]:
    with _quiet():
        await Tortoise.init(
            config=tortoise_config(database_url, apps, with_models=False),
            _enable_global_fallback=True,
        )
    try:
        yield _Executor(connections.get("default"), _apps_config(apps))
    finally:
        await Tortoise.close_connections()


def _name(step: Any) -> str:
    return f"{step.migration.app_label}.{step.migration.name}"


async def pending(database_url: str, apps: Sequence[SchemaApp]) -> list[str]:
    """The migrations this database has not run, in the order they would run."""
    async with _opened(database_url, apps) as executor:
        return [_name(step) for step in await executor.plan()]


async def apply(
    database_url: str,
    apps: Sequence[SchemaApp],
    report: Callable[[str], object],
    lock_timeout_s: float = 600.0,
) -> list[str]:
    """Apply what is pending, under the lock; ``report`` hears each one as it is applied."""
    applied: list[str] = []
    current = ["(planning)"]

    def progress(event: str, app: str, name: str) -> None:
        current[0] = f"{app}.{name}"
        if event == "apply_done":
            applied.append(current[0])
            report(current[0])

    async with _opened(database_url, apps) as executor:
        try:
            async with migration_lock(lock_timeout_s):
                with warnings.catch_warnings():
                    # MySQL notes CREATE TABLE IF NOT EXISTS of the record table as a warning.
                    warnings.filterwarnings("ignore", message=".*already exists")
                    await executor.migrate(progress=progress)
        except Exception as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise MigrationFailed(f"migration {current[0]} failed: {reason}") from exc
    return applied


async def sql(database_url: str, apps: Sequence[SchemaApp]) -> list[str]:
    """The SQL the pending migrations would run here, each under a comment naming it."""
    lines: list[str] = []
    async with _opened(database_url, apps) as executor:
        for step in await executor.plan():
            lines.append(f"-- {_name(step)}")
            lines.extend(await executor.collect_sql(step.migration.app_label, step.migration.name))
    return lines


async def _changes(apps: Sequence[SchemaApp]) -> list[MigrationWriter]:
    with _quiet():
        await Tortoise.init(
            config=tortoise_config("sqlite://:memory:", apps), init_connections=False
        )
    try:
        writers: list[MigrationWriter] = await MigrationAutodetector(
            Tortoise.apps, _apps_config(apps)
        ).changes()
    finally:
        await Tortoise.close_connections()
    return writers


async def model_changes(apps: Sequence[SchemaApp]) -> list[str]:
    """What the models change against the schema the migration files build (no database):
    each line a change that needs a migration."""
    return [f"{w.app_label}: {op.describe()}" for w in await _changes(apps) for op in w.operations]


async def make(apps: Sequence[SchemaApp], name: str) -> list[str]:
    """Write the migration files the models' changes need, named ``NNNN_<name>``; their
    paths. Review each: an operation Tortoise cannot run again safely needs a hand."""
    paths = []
    for writer in await _changes(apps):
        number = writer.name.split("_", 1)[0]
        writer.name = f"{number}_{name}"
        paths.append(str(writer.write()))
    return paths
