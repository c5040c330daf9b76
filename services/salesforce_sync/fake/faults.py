"""Injected faults: the next ``count`` requests matching a method and path prefix are answered
``status`` with a Salesforce error body (after ``hang_s``), instead of being handled."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Fault:
    status: int
    error_code: str
    message: str = "fault"
    count: int = 1
    method: str | None = None
    path_prefix: str = "/services/data/"
    hang_s: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and path.startswith(
            self.path_prefix
        )

    def public(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.queued: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.count < 1:
            raise ValueError("a fault's count is at least 1")
        self.queued.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, used once."""
        for fault in self.queued:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count == 0:
                    self.queued.remove(fault)
                return fault
        return None
