"""The field clock: per path, the local version that last changed it, when, and from where.

Kept on each synced entity's row (``field_clock``) and written with every change, in the same
statement, so it costs the API nothing extra. It tells the merge which local changes a provider
has not confirmed yet (their version is newer than the shadow's ``confirmed``), when a path was
changed (for the "latest change wins" rule: the app's time, or the provider's own time for a
change that came from one) and where the change came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class FieldClock:
    def __init__(self, raw: Any = None) -> None:
        self._ticks: dict[str, tuple[int, float, str]] = {}
        if isinstance(raw, Mapping):
            for path, tick in raw.items():
                version, at, origin = tick
                self._ticks[path] = (int(version), float(at), str(origin))

    def version(self, path: str) -> int:
        return self._ticks.get(path, (0, 0.0, ""))[0]

    def at(self, path: str) -> float:
        return self._ticks.get(path, (0, 0.0, ""))[1]

    def origin(self, path: str) -> str:
        return self._ticks.get(path, (0, 0.0, ""))[2]

    def paths(self) -> list[str]:
        return list(self._ticks)

    def tick(self, paths: Iterable[str], version: int, at: float, origin: str) -> None:
        for path in paths:
            self._ticks[path] = (version, at, origin)

    def dump(self) -> dict[str, list[Any]]:
        return {path: [v, at, o] for path, (v, at, o) in sorted(self._ticks.items())}
