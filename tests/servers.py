"""Which real servers a test needs, and what happens when one is not there.

A test needs MariaDB when it is marked ``mariadb`` or uses the session's database, RabbitMQ when
it is marked ``rabbitmq`` or uses the session's vhost. Each server is tried once per run. Where
one does not answer, the tests needing it are skipped with one line naming it, and the rest
(SQLite, the in-process bus, pure logic) run. In CI (``CI=true``) a missing server fails those
tests instead, so CI never passes by skipping.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    port: int
    marker: str
    fixture: str

    def where(self) -> str:
        return f"{self.host}:{self.port}"


MARIADB = Server(
    "MariaDB",
    os.environ.get("TWOWAY_TEST_DB_HOST", "127.0.0.1"),
    int(os.environ.get("TWOWAY_TEST_DB_PORT", "3306")),
    "mariadb",
    "test_database",
)
RABBITMQ = Server(
    "RabbitMQ",
    os.environ.get("TWOWAY_TEST_AMQP_HOST", "127.0.0.1"),
    int(os.environ.get("TWOWAY_TEST_AMQP_PORT", "5672")),
    "rabbitmq",
    "test_vhost",
)
SERVERS = (MARIADB, RABBITMQ)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@functools.cache
def answers(server: Server) -> bool:
    try:
        with socket.create_connection((server.host, server.port), timeout=2):
            return True
    except OSError:
        return False


def needed(item: pytest.Item) -> list[Server]:
    fixtures = set(getattr(item, "fixturenames", ()))
    return [
        s for s in SERVERS if item.get_closest_marker(s.marker) is not None or s.fixture in fixtures
    ]


def require(item: pytest.Item) -> None:
    """Skip (fail in CI) a test whose server does not answer."""
    for server in needed(item):
        if answers(server):
            continue
        reason = f"{server.name} unreachable at {server.where()}"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: a missing server fails the test)", pytrace=False)
        pytest.skip(reason)
