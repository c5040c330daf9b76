"""A typed registry that fails loudly on unknown or duplicate keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class RegistryError(LookupError):
    """Raised for a duplicate registration or a lookup of an unknown key."""


class Registry(Mapping[K, V], Generic[K, V]):
    """A mapping that refuses duplicates and names itself in its errors."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._items: dict[K, V] = {}

    def register(self, key: K, value: V) -> V:
        if key in self._items:
            raise RegistryError(f"{self._name}: {key!r} is registered twice")
        self._items[key] = value
        return value

    def __getitem__(self, key: K) -> V:
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(repr(k) for k in self._items) or "none"
            raise RegistryError(f"{self._name}: unknown {key!r} (known: {known})") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
