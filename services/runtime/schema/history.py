"""The schema's history: which apps have migrations, where, and which models each owns.

An app is one folder of migration files with its own numbering: the core tables'
(``services/migrations``) and each provider's own tables (in its package). Applied migrations
are recorded in the ``tortoise_migrations`` table as (app, name).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

RECORD_TABLE = "tortoise_migrations"
CORE_SCHEMA = "services.migrations"
"""The core tables' migrations: every service that uses the database needs them."""


@dataclass(frozen=True)
class SchemaApp:
    migrations: str
    """The package of its migration files; its ``APP`` names the app in the record table."""
    models: tuple[str, ...] = ()
    """The model modules whose tables its migrations build (for the model check)."""

    @property
    def label(self) -> str:
        return app_label(self.migrations)


def app_label(package: str) -> str:
    return str(importlib.import_module(package).APP)


def migration_names(package: str) -> list[str]:
    """The package's migration files, in order."""
    module = importlib.import_module(package)
    names = [n for _, n, is_pkg in pkgutil.iter_modules(module.__path__) if not is_pkg]
    return sorted(n for n in names if n[0] not in "_~")


def tortoise_config(
    database_url: str, apps: Iterable[SchemaApp], with_models: bool = True
) -> dict[str, Any]:
    """Tortoise's configuration of the apps. Applying migrations needs no model (the files
    build their own): ``with_models=False`` names each app's migrations package as its models
    module instead, where Tortoise finds none, so that the models keep the app a service opens
    them with in the same process (``runner`` silences Tortoise's warning about that). An app
    whose tables all left the code (kept a release, then dropped) is named the same way."""
    return {
        "connections": {"default": database_url},
        "apps": {
            app.label: {
                "models": list(app.models) if with_models and app.models else [app.migrations],
                "migrations": app.migrations,
            }
            for app in apps
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def expected(packages: Sequence[str]) -> list[tuple[str, str]]:
    """(app, migration) of every migration file of ``packages``, in order."""
    return [(app_label(p), name) for p in packages for name in migration_names(p)]
