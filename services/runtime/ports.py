"""A port a process is about to serve on, checked before it starts: one line naming the setting
when another process holds it, instead of a traceback from deep inside the server."""

from __future__ import annotations

import errno
import socket

from services.runtime.settings import ConfigError


def taken(port: int, setting: str) -> ConfigError:
    return ConfigError(
        f"port {port} is already in use by another process: set {setting} to a free port"
    )


def require_free(port: int, setting: str, host: str = "0.0.0.0") -> None:
    """Raise ConfigError if ``port`` (0: none, or any free one) cannot be bound on ``host``."""
    if not port:
        return
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise taken(port, setting) from None
        raise ConfigError(f"cannot serve on port {port} ({setting}): {exc.strerror}") from None
