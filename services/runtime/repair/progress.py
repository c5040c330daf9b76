"""A progress bar with an ETA on a terminal (tqdm, on stderr); nothing when not a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from tqdm import tqdm


class Progress:
    def __init__(self, enabled: bool | None = None) -> None:
        # None: on when stderr is a terminal (tqdm's own check).
        self.enabled = enabled

    @contextlib.contextmanager
    def phase(
        self, name: str, total: int | None = None, done: int = 0, unit: str = "obj"
    ) -> Iterator[Callable[[int], None]]:
        """A bar for one phase; yields ``advance(n)``. Without ``total`` it counts and shows
        the rate (no ETA can be known)."""
        disable = None if self.enabled is None else not self.enabled
        with tqdm(
            total=total,
            initial=done,
            desc=name,
            unit=unit,
            file=sys.stderr,
            disable=disable,
            dynamic_ncols=True,
        ) as bar:

            def advance(count: int) -> None:
                bar.update(count)

            yield advance
