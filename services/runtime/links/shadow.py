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
  provider's own later change: an old value of theirs coming back is no echo of them;
- ``before``: the values the provider's own changes went through to reach ``value``, newest
  first, as far as its events said (Stripe's ``previous_attributes``): an event still showing
  one of them, delivered late, is stale;
- ``overwrote``: for twoway's own update, the value it replaced at the provider, when the
  echo said (``[value]``; ``[]``: not known): a provider change to that value came before it;
- ``earlier``: the same for twoway's other updates since the provider's own change was last
  applied (``floor``), as ``[value it set, value it replaced]`` pairs, oldest first: an echo
  often comes after a later write was confirmed, or after a provider change was merged, and
  still tells where a provider change fell among twoway's writes.

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

MAX_CHAIN = 20


@dataclass(frozen=True)
class Known:
    value: JsonValue = None
    confirmed: int = 0
    lo: float = 0.0
    hi: float = 0.0
    unordered: bool = False
    floor: int = 0
    before: tuple[JsonValue, ...] = ()
    overwrote: tuple[JsonValue, ...] = ()
    earlier: tuple[tuple[JsonValue, JsonValue], ...] = ()

    def to_json(self) -> list[Any]:
        return [
            self.value,
            self.confirmed,
            self.lo,
            self.hi,
            self.unordered,
            self.floor,
            list(self.before),
            list(self.overwrote),
            [list(pair) for pair in self.earlier],
        ]

    @classmethod
    def from_json(cls, raw: Any) -> Known:
        value, confirmed, lo, hi, unordered, floor, before, overwrote, *rest = raw
        earlier = rest[0] if rest else []  # shadows written before ``earlier`` existed
        return cls(
            value,
            int(confirmed),
            float(lo),
            float(hi),
            bool(unordered),
            int(floor),
            tuple(before),
            tuple(overwrote),
            tuple((set_to, replaced) for set_to, replaced in earlier),
        )

    def preceded_by(self, value: JsonValue, changed_from: JsonValue) -> bool:
        """A change to ``value`` (from ``changed_from``) is the one that made what this one
        changed from: an older change of the provider's, delivered after this one."""
        return value in self.before and changed_from != self.value

    def replacements(self) -> tuple[tuple[JsonValue, JsonValue], ...]:
        """Twoway's updates since the floor as their echoes told, (value set, value replaced),
        oldest first: ``earlier``, then the confirmed write's own."""
        own = ((self.value, self.overwrote[0]),) if self.unordered and self.overwrote else ()
        return (*self.earlier, *own)


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
        """From when on the provider's own state of ``path`` is known (0: never).

        Twoway's updates do not count: a provider change older than one of them was not seen
        by it, and overwritten at the provider; it is a concurrent change, not a stale one."""
        known = self._paths.get(path)
        own = known.lo if known and not known.unordered else 0.0
        return max(self.seen, own)

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
            earlier = known.replacements()[-MAX_CHAIN:]
            self._paths[path] = Known(
                value, version, lo, hi, not created, known.floor, earlier=earlier
            )

    def echoed(
        self,
        path: str,
        value: JsonValue,
        version: int,
        lo: float,
        hi: float,
        created: bool,
        overwrote: tuple[JsonValue] | None,
    ) -> None:
        """The provider's echo of twoway's write of ``version``: as ``written``; besides, it
        may say what the write replaced there, kept even when the result confirmed it first,
        and even when a later write of twoway's is already confirmed (``earlier``)."""
        self.written(path, value, version, lo, hi, created)
        known = self._paths.get(path)
        if overwrote is None or known is None:
            return
        if known.confirmed == version and known.unordered:
            self._paths[path] = replace(known, overwrote=overwrote)
        elif known.floor < version <= known.confirmed:
            # An earlier write's echo, or one arriving after a provider change was merged:
            # what it replaced still places provider changes among twoway's writes.
            pair = (value, overwrote[0])
            if pair not in known.earlier:
                earlier = (*known.earlier, pair)[-MAX_CHAIN:]
                self._paths[path] = replace(known, earlier=earlier)

    def observed(
        self,
        path: str,
        value: JsonValue,
        lo: float,
        hi: float,
        confirmed: int | None = None,
        before: tuple[JsonValue] | None = None,
    ) -> None:
        """A provider event showed ``path`` = ``value`` in ``lo..hi``; ``confirmed``: the
        local version that value is (None: unchanged); ``before``: the value it changed from,
        if the provider said."""
        known = self._paths.get(path, Known())
        self._paths[path] = replace(
            known,
            value=value,
            lo=lo,
            hi=hi,
            unordered=False,
            confirmed=known.confirmed if confirmed is None else max(known.confirmed, confirmed),
            before=before if before is not None else (),
            earlier=known.replacements()[-MAX_CHAIN:],
            overwrote=(),
        )

    def preceded(self, path: str, changed_from: JsonValue) -> None:
        """A late event showed a change that led up to the known value, from ``changed_from``:
        one more value the provider went through before it."""
        known = self._paths.get(path)
        if known is not None and changed_from not in known.before:
            chain = (*known.before, changed_from)[-MAX_CHAIN:]
            self._paths[path] = replace(known, before=chain)

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
            known,
            confirmed=max(known.confirmed, version),
            floor=max(known.floor, version),
            earlier=(),
        )
