"""The shadow: what the CRUD service knows of one entity's state at one provider.

Kept per (entity, provider) on the ``ExternalLink`` row, path by path (``shared.fields``):

- ``value``: the provider's value as last known to agree with the app (the merge base);
- ``confirmed``: the newest local version whose value of the path the provider is known to
  hold (0: none). A path whose local version is newer has a local change not yet confirmed
  there: it is *pending* at that provider;
- ``lo``..``hi``: when, on the provider's clock, the value was observed there: a provider
  event's time and clock resolution, or the span from sending to answer of twoway's own write;
- ``unordered``: the value arrived by twoway's own update (a result or its echo), which took
  effect somewhere in ``lo..hi``: a provider change within that span may have come before or
  after it. (Not so for a create: nothing happens to an object before it exists.)
- ``floor``: twoway's writes of the path up to this local version are overtaken by the
  provider's own later change: an old value of theirs coming back is no echo of them.

Besides, ``seen`` is the newest provider time at which a provider event showed the whole
object: every path, including map keys absent then, is known as of that moment.

It is updated when an outbound write is answered (``sync.results``), when an echo of one
arrives, and when an inbound change is merged (``merge``), always under the link's row lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import JsonValue


@dataclass(frozen=True)
class Known:
    value: JsonValue = None
    confirmed: int = 0
    lo: float = 0.0
    hi: float = 0.0
    unordered: bool = False
    floor: int = 0

    def to_json(self) -> list[Any]:
        return [self.value, self.confirmed, self.lo, self.hi, self.unordered, self.floor]

    @classmethod
    def from_json(cls, raw: Any) -> Known:
        value, confirmed, lo, hi, unordered, floor = raw
        return cls(value, int(confirmed), float(lo), float(hi), bool(unordered), int(floor))


class Shadow:
    """Path -> ``Known``, and ``seen``; serialized as a JSON object on the link row."""

    def __init__(self, paths: Mapping[str, Known] | None = None, seen: float = 0.0) -> None:
        self._paths: dict[str, Known] = dict(paths or {})
        self.seen = seen

    @classmethod
    def load(cls, raw: Any) -> Shadow:
        if not isinstance(raw, Mapping):
            return cls()
        paths = raw.get("paths") or {}
        return cls(
            {path: Known.from_json(item) for path, item in paths.items()},
            float(raw.get("seen") or 0.0),
        )

    def dump(self) -> dict[str, Any]:
        paths = {path: known.to_json() for path, known in sorted(self._paths.items())}
        return {"paths": paths, "seen": self.seen}

    def known_since(self, path: str) -> float:
        """From when on the provider's value of ``path`` is known (0: never)."""
        known = self._paths.get(path)
        return max(self.seen, known.lo if known else 0.0)

    def saw_whole(self, at: float) -> None:
        """A provider event showed the whole object at ``at``."""
        self.seen = max(self.seen, at)

    def get(self, path: str) -> Known | None:
        return self._paths.get(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def values(self) -> dict[str, JsonValue]:
        return {path: known.value for path, known in self._paths.items()}

    def confirmed(self, path: str) -> int:
        known = self._paths.get(path)
        return known.confirmed if known else 0

    def written(
        self,
        path: str,
        value: JsonValue,
        version: int,
        lo: float,
        hi: float,
        created: bool = False,
    ) -> None:
        """Twoway's write of ``version`` set ``path`` to ``value`` at the provider in
        ``lo..hi``. Older news than what is known already changes nothing."""
        known = self._paths.get(path, Known())
        if version > known.confirmed:
            self._paths[path] = Known(value, version, lo, hi, not created, known.floor)

    def observed(
        self, path: str, value: JsonValue, lo: float, hi: float, confirmed: int | None = None
    ) -> None:
        """A provider event showed ``path`` = ``value`` in ``lo..hi``; ``confirmed``: the
        local version that value is (None: unchanged)."""
        known = self._paths.get(path, Known())
        self._paths[path] = replace(
            known,
            value=value,
            lo=lo,
            hi=hi,
            unordered=False,
            confirmed=known.confirmed if confirmed is None else max(known.confirmed, confirmed),
        )

    def floor(self, path: str) -> int:
        known = self._paths.get(path)
        return known.floor if known else 0

    def overtake(self, path: str, version: int) -> None:
        """The provider's own change of ``path`` came after twoway's writes up to ``version``."""
        known = self._paths.get(path, Known())
        if version > known.floor:
            self._paths[path] = replace(known, floor=version)

    def applied(self, path: str, version: int) -> None:
        """The provider's change of ``path`` became local ``version``: it holds that version,
        and every earlier write of twoway's is overtaken there."""
        known = self._paths.get(path, Known())
        self._paths[path] = replace(
            known, confirmed=max(known.confirmed, version), floor=max(known.floor, version)
        )
