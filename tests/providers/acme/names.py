"""Acme's name in the registry, on the wire and in queue and metric names."""

from __future__ import annotations

from shared.kinds import Provider

ACME = Provider("acme")
