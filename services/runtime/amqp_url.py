"""Checking an AMQP URL at start-up, the way aio-pika will read it when connecting."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

INTEGER_OPTIONS = ("heartbeat", "connection_timeout", "channel_max", "frame_max")


def check_url(url: str) -> None:
    """Raise ValueError unless aio-pika can connect with ``url`` (``amqp://`` or
    ``amqps://``, a valid port, numeric options); the message never repeats the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError(f"not an AMQP URL: scheme {parts.scheme!r}")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked for it
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    options = parse_qs(parts.query)
    for name in INTEGER_OPTIONS:
        if any(not value.isdigit() for value in options.get(name, [])):
            raise ValueError(f"option {name} is not a whole number")
