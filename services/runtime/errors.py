"""The error taxonomy every consumer's handler speaks.

    Exception
    ├── Retryable      -- may succeed later: connection errors, timeouts, 429, 5xx, lock waits.
    │                     ``retry_after`` (seconds) asks for at least that long a wait.
    └── Permanent      -- will never succeed as it is: validation errors, other 4xx, auth, a
                          malformed message. ``reason`` is a short machine-readable word.

Anything else a handler raises is a bug or an unforeseen failure; the worker treats it as
Retryable (so a transient surprise heals) and the retry tiers bound it (so it never loops).
"""

from __future__ import annotations


class Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(Exception):
    def __init__(self, message: str, reason: str = "permanent_error") -> None:
        super().__init__(message)
        self.reason = reason
