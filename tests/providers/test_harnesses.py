"""Every registered provider runs the contract suite: it has a harness."""

from __future__ import annotations

from services.runtime.providers import plugins
from tests.providers.harness import HARNESSES


def test_every_registered_provider_has_a_harness() -> None:
    assert [name for name in plugins() if name not in HARNESSES] == []
    for name, factory in HARNESSES.items():
        harness = factory()
        assert harness.name == name
        assert harness.kinds(), f"{name}'s harness exercises no kind"
        assert set(harness.kinds()) <= plugins()[name].kinds
