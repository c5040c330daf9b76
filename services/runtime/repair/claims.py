"""Which provider objects claim which local entity, over a whole listing: the ambiguity check.

An object claims a local entity by its twoway id, else by the kind's match keys (a customer's
email). Two objects claiming the same one is an ambiguity: neither is linked, both are
reported. A local entity some object claims is never pushed (that would make a duplicate).
About 100 bytes per object are kept, for the length of a run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from services.runtime.repair.source import Observed
from services.runtime.repair.target import Local


def _keys(keys: Mapping[str, str]) -> list[str]:
    # MySQL's default collation compares text case-insensitively: so do the keys.
    return [f"{name}:{value.casefold()}" for name, value in sorted(keys.items()) if value]


class Claims:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.keys: Counter[str] = Counter()
        self.objects = 0

    def add(self, item: Observed) -> None:
        self.objects += 1
        if item.local_id:
            self.ids[item.local_id] += 1
        for key in _keys(item.keys):
            self.keys[key] += 1

    def ambiguity(self, item: Observed) -> str | None:
        """Why ``item`` must not be linked blindly; None when its claim is unique."""
        if item.local_id:
            count = self.ids[item.local_id]
            if count > 1:
                return f"{count} objects carry twoway_id {item.local_id}"
            return None
        for key in _keys(item.keys):
            if self.keys[key] > 1:
                name, _, value = key.partition(":")
                return f"{self.keys[key]} objects share {name} {value}"
        return None

    def claim(self, local: Local) -> bool:
        return local.entity_id in self.ids or any(k in self.keys for k in _keys(local.keys))
