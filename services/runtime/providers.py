"""The provider plug-in point: what a provider package registers, and the registry.

A provider is one package that registers one ``ProviderPlugin`` (``services/providers.py``
holds the registry lines). Generic code (the CLI, migrate, ``twoway dev``, the gateway, the
worker process, the repair jobs, crud) reads the registry and names no provider.

The registry is loaded on first use, not at import time: ``plugins()`` imports the registry
module once, and each provider package's plugin module registers itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator

from shared.kinds import EntityKind, Provider
from shared.registry import Registry
from shared.topology import WorkQueue, provider_queue, work_queues

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

    from services.runtime.bus import Bus
    from services.runtime.repair.source import Sources
    from services.runtime.settings import ProviderSettings
    from services.runtime.webhooks import WebhookProvider

REGISTRY_MODULE = "services.providers"
"""The module whose import registers every provider package (one line each)."""


@dataclass(frozen=True)
class WorkerRun:
    """How a provider worker runs: on the deployment's bus and database, or the caller's."""

    bus: Bus | None = None
    own_database: bool = True
    metrics_port: int | None = None


@dataclass(frozen=True)
class DevContext:
    """What ``twoway dev`` tells a provider's dev launcher."""

    gateway_url: str
    """The gateway's base URL: where the provider's webhooks are to be sent."""
    api_url: str
    providers: tuple[Provider, ...]


@dataclass(frozen=True)
class DevRun:
    """A provider as ``twoway dev`` runs it: its settings (a fake's, or the real account's from
    the environment) and the lines the banner shows about it."""

    settings: ProviderSettings
    banner: Sequence[str] = ()


@dataclass(frozen=True)
class ProviderPlugin:
    """Everything generic code needs of one provider.

    The callables take the provider's own settings (an instance of ``settings``), read once
    at start-up by the composition root.
    """

    name: Provider
    kinds: frozenset[EntityKind]
    """The entity kinds it syncs: its worker acks other kinds' events and does nothing."""
    settings: type[ProviderSettings]
    """One settings class, read by its worker, the gateway and the repair jobs alike."""
    worker: Callable[[Any, WorkerRun], Awaitable[None]]
    """Consume its queue and sync until cancelled."""
    worker_needs: tuple[str, ...]
    """The settings its worker (and the repair jobs) cannot run without."""
    webhooks: Callable[[Any], WebhookProvider]
    """Its webhooks' verification and normalisation, for the gateway."""
    webhook_needs: tuple[str, ...]
    """The settings the gateway cannot serve its webhooks without."""
    repair: Callable[[Any], AbstractAsyncContextManager[Sources]]
    """Its side of catch-up, the drift audit and reconcile: object and change sources."""
    dev: Callable[[DevContext], AbstractAsyncContextManager[DevRun]]
    """``twoway dev``'s launcher: a fake unless the environment names a real account."""
    description: str
    """What its worker does, for ``twoway --help``."""
    migrations: str | None = None
    """The package of its own migrations, if it keeps tables of its own."""
    redelivery_window: timedelta = timedelta(0)
    """How long it delivers a webhook again after a failure: the inbox must remember longer."""
    links: type[BaseSettings] | None = None
    """The UI's settings for linking to its pages (no secrets: crud reads them)."""
    record_url: Callable[[Any, EntityKind, str], str | None] | None = None
    """Its page for an object, from ``links``' settings (the UI links ids to it)."""
    repair_metrics_port: int = 0
    """Where its repair job serves ``/metrics`` unless ``TWOWAY_METRICS_PORT`` says (0: off):
    each provider's own, so the roles can share a host."""
    enabled_by_default: bool = False
    """Part of the deployment when ``TWOWAY_PROVIDERS`` is not set."""
    quiet_loggers: tuple[str, ...] = ()
    """Its libraries' loggers, kept at WARNING."""

    @property
    def queue(self) -> WorkQueue:
        return provider_queue(self.name)


def main_worker(module: str) -> Callable[[Any, WorkerRun], Awaitable[None]]:
    """A plug-in's ``worker`` from its package's ``main(settings, *, bus, own_database,
    metrics_port)`` in ``module``, imported when the worker starts (not with the registry)."""

    async def run(settings: Any, how: WorkerRun) -> None:
        main = importlib.import_module(module).main
        await main(
            settings, bus=how.bus, own_database=how.own_database, metrics_port=how.metrics_port
        )

    return run


_PLUGINS: Registry[Provider, ProviderPlugin] = Registry("providers")
_loaded = False


def register(plugin: ProviderPlugin) -> ProviderPlugin:
    """Add a provider (a plug-in module's one call, or a test's)."""
    return _PLUGINS.register(plugin.name, plugin)


def register_package(module: str) -> ProviderPlugin:
    """Import a provider package's plug-in module and register its ``PLUGIN``."""
    found = getattr(importlib.import_module(module), "PLUGIN", None)
    if not isinstance(found, ProviderPlugin):
        raise TypeError(f"{module} has no PLUGIN (a ProviderPlugin)")
    return register(found)


def plugins() -> Registry[Provider, ProviderPlugin]:
    """Every registered provider, in registration order."""
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module(REGISTRY_MODULE)
    return _PLUGINS


def plugin(name: str) -> ProviderPlugin:
    return plugins()[Provider(name)]


def provider_names() -> list[str]:
    return [str(p) for p in plugins()]


def default_providers() -> tuple[Provider, ...]:
    return tuple(p.name for p in plugins().values() if p.enabled_by_default)


def providers_of(
    kind: EntityKind, enabled: Iterable[Provider] | None = None
) -> tuple[Provider, ...]:
    """The providers that sync ``kind`` (of ``enabled``, if given), in registration order."""
    chosen = None if enabled is None else set(enabled)
    return tuple(
        p.name
        for p in plugins().values()
        if kind in p.kinds and (chosen is None or p.name in chosen)
    )


def _registered(name: Provider) -> Provider:
    if name not in plugins():
        raise ValueError(f"unknown provider {name.value!r} (known: {', '.join(provider_names())})")
    return name


RegisteredProvider = Annotated[Provider, AfterValidator(_registered)]
"""A provider name that must be a registered provider's (requests' filters, settings)."""


def all_work_queues() -> tuple[WorkQueue, ...]:
    """Every work queue a deployment of every registered provider declares."""
    return work_queues(list(plugins()))


def default_work_queues() -> tuple[WorkQueue, ...]:
    """The work queues of a deployment of the default providers: what a bus declares unless
    told."""
    return work_queues(default_providers())
