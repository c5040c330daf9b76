"""The field clock: per path, the local version that last changed it, and when.

Kept on each synced entity's row (``field_clock``) and written with every change, in the same
statement, so it costs the API nothing extra. It tells the merge which local changes a provider
has not confirmed yet (their version is newer than the shadow's ``confirmed``) and, for the
"latest change wins" rule, when the app changed a path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class FieldClock:
    def __init__(self, raw: Any = None) -> None:
        self._ticks: dict[str, tuple[int, float]] = {}
        if isinstance(raw, Mapping):
            for path, tick in raw.items():
                version, at = tick
                self._ticks[path] = (int(version), float(at))

    def version(self, path: str) -> int:
        return self._ticks.get(path, (0, 0.0))[0]

    def at(self, path: str) -> float:
        return self._ticks.get(path, (0, 0.0))[1]

    def tick(self, paths: Iterable[str], version: int, at: float) -> None:
        for path in paths:
            self._ticks[path] = (version, at)

    def dump(self) -> dict[str, list[float]]:
        return {path: [v, at] for path, (v, at) in sorted(self._ticks.items())}
