"""How each provider links an object's id to its own page: its plug-in's ``record_url``.

The crud service holds no provider keys and calls no provider: a link is built from the
provider's link settings (``ProviderPlugin.links``), read when the UI is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.runtime.providers import plugin
from services.runtime.settings import load
from shared.kinds import EntityKind, Provider


class ProviderLinks:
    def __init__(self, providers: Iterable[Provider]) -> None:
        self._builders: dict[Provider, tuple[Any, Any]] = {}
        for name in providers:
            found = plugin(name)
            if found.links is not None and found.record_url is not None:
                self._builders[name] = (found.record_url, load(found.links))

    def to(self, provider: Provider, kind: EntityKind, external_id: str | None) -> str | None:
        if not external_id or provider not in self._builders:
            return None
        build, settings = self._builders[provider]
        url: str | None = build(settings, kind, external_id)
        return url
