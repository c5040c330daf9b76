"""Database start-up, dialect facts and the retry rule for transient database errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise, connections
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

log = logging.getLogger(__name__)
T = TypeVar("T")

# MySQL/MariaDB error codes worth retrying the whole transaction for: server gone away, lost
# connection, deadlock, lock wait timeout.
TRANSIENT_MYSQL_CODES = frozenset({2006, 2013, 1213, 1205})

_MYSQL_POOL_DEFAULTS = {"maxsize": "20", "pool_recycle": "300", "connect_timeout": "5"}


def with_pool_defaults(url: str) -> str:
    """Add pool settings that survive a database restart, unless the URL sets them."""
    parts = urlsplit(url)
    if parts.scheme != "mysql":
        return url
    query = dict(parse_qsl(parts.query))
    for key, value in _MYSQL_POOL_DEFAULTS.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def dialect() -> str:
    """``mysql`` or ``sqlite``: the dialect of the default connection."""
    return str(connections.get("default").capabilities.dialect)


async def init_db(url: str, model_modules: Iterable[str]) -> None:
    await Tortoise.init(
        db_url=with_pool_defaults(url),
        modules={"models": list(model_modules)},
        use_tz=True,
        timezone="UTC",
        # Tortoise keeps its state in a context variable; a Starlette lifespan runs in another
        # task than the request handlers, which must still find the connections.
        _enable_global_fallback=True,
    )


async def close_db() -> None:
    await Tortoise.close_connections()


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBConnectionError | TransactionManagementError):
        return True
    if isinstance(exc, OperationalError):
        cause = exc.__cause__ or exc
        args = getattr(cause, "args", ())
        if args and isinstance(args[0], int):
            return args[0] in TRANSIENT_MYSQL_CODES
        text = str(exc).lower()
        return "lost connection" in text or "gone away" in text or "deadlock" in text
    return isinstance(exc, ConnectionError | OSError)


async def retry_transient(
    operation: Callable[[], Awaitable[T]], attempts: int = 4, first_delay: float = 0.05
) -> T:
    """Run ``operation`` (a whole transaction) again when it fails for a transient reason."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("transient database error, retrying", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay *= 4
    raise AssertionError("unreachable")
