"""Field paths: how twoway names the parts of an entity it syncs one by one.

A synced entity is a few scalar fields and string maps (Stripe's ``metadata``). Each scalar is
one path (``"name"``); each key of a map is a path of its own (``"metadata.plan"``), because
providers merge maps key by key and two sides may well change different keys at once. A path
whose value is ``None`` is unset (a map key that is absent).

Everything here is pure: flattened states are plain dicts from path to JSON scalar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import JsonValue

Flat = dict[str, JsonValue]
"""A flattened state: path -> value (``None`` or absent: unset)."""

SEPARATOR = "."


def flatten(values: Mapping[str, Any], fields: Iterable[str]) -> Flat:
    """The paths of ``fields`` in ``values``: scalars as they are, maps one path per key."""
    flat: Flat = {}
    for name in fields:
        value = values.get(name)
        if isinstance(value, Mapping):
            for key, item in value.items():
                flat[f"{name}{SEPARATOR}{key}"] = item
        else:
            flat[name] = value
    return flat


def split(path: str) -> tuple[str, str | None]:
    """``"metadata.plan"`` -> ``("metadata", "plan")``; ``"name"`` -> ``("name", None)``."""
    name, sep, key = path.partition(SEPARATOR)
    return name, key if sep else None


def changed_paths(before: Mapping[str, JsonValue], after: Mapping[str, JsonValue]) -> set[str]:
    """Paths whose value differs between two flattened states (absent counts as ``None``)."""
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def apply_paths(values: Mapping[str, Any], changes: Mapping[str, JsonValue]) -> dict[str, Any]:
    """``values`` (unflattened, e.g. a snapshot's fields) with ``changes`` applied.

    A map key set to ``None`` is removed; a scalar set to ``None`` becomes ``None``.
    """
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in values.items()}
    for path, value in changes.items():
        name, key = split(path)
        if key is None:
            out[name] = value
            continue
        mapping = out.setdefault(name, {})
        if value is None:
            mapping.pop(key, None)
        else:
            mapping[key] = value
    return out


def fields_of(paths: Iterable[str]) -> set[str]:
    """The top-level fields the paths belong to."""
    return {split(p)[0] for p in paths}
