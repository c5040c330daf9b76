"""Where an AMQP URL points: parsed once, the way aio-pika reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect, from an ``amqp://`` or ``amqps://`` URL."""

    host: str
    port: int
    virtual_host: str
    username: str
    password: str = field(repr=False)
    heartbeat_s: int = 60
    tls: bool = False


def parse_url(url: str) -> Endpoint:
    """The endpoint of an AMQP URL, read the way aio-pika reads it (vhost ``/`` by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError(f"not an AMQP URL: scheme {parts.scheme!r}")
    tls = parts.scheme == "amqps"
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    query = dict(item.partition("=")[::2] for item in parts.query.split("&") if item)
    return Endpoint(
        host=parts.hostname or "localhost",
        port=parts.port or (5671 if tls else 5672),
        virtual_host=unquote(path) or "/",
        username=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        heartbeat_s=int(query.get("heartbeat", "60")),
        tls=tls,
    )
