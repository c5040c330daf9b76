"""Database start-up, dialect facts and the retry rule for transient database errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pymysql
from tortoise import Tortoise, connections
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

from services.runtime.cancel import raise_if_cancelling
from services.runtime.schema.startup import require_schema

log = logging.getLogger(__name__)
T = TypeVar("T")

# MySQL/MariaDB error codes worth retrying the whole transaction for: the server cannot be
# reached (2002, 2003), is shutting down (1053) or went away (2006, 2013, 2055, 1927: the
# connection was killed), deadlock (1213), lock wait timeout (1205).
TRANSIENT_MYSQL_CODES = frozenset({2002, 2003, 2006, 2013, 2055, 1053, 1927, 1213, 1205})

_MYSQL_POOL_DEFAULTS = {"maxsize": "20", "pool_recycle": "300", "connect_timeout": "5"}


def with_pool_defaults(url: str, pool_size: int | None = None) -> str:
    """Add pool settings that survive a database restart, unless the URL sets them;
    ``pool_size`` replaces the default size (a setting of the process)."""
    parts = urlsplit(url)
    if parts.scheme != "mysql":
        return url
    query = dict(parse_qsl(parts.query))
    defaults = dict(_MYSQL_POOL_DEFAULTS)
    if pool_size is not None:
        defaults["maxsize"] = str(pool_size)
    for key, value in defaults.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def dialect() -> str:
    """``mysql`` or ``sqlite``: the dialect of the default connection."""
    return str(connections.get("default").capabilities.dialect)


async def init_db(
    url: str,
    model_modules: Iterable[str],
    pool_size: int | None = None,
    *,
    require: Sequence[str] = (),
) -> None:
    """Open the database for ``model_modules``. ``require``: the migration packages whose every
    migration must have run here (``SchemaBehind`` otherwise, before anything else happens)."""
    await Tortoise.init(
        db_url=with_pool_defaults(url, pool_size),
        modules={"models": list(model_modules)},
        use_tz=True,
        timezone="UTC",
        # Tortoise keeps its state in a context variable; a Starlette lifespan runs in another
        # task than the request handlers, which must still find the connections.
        _enable_global_fallback=True,
    )
    if require:
        try:
            await require_schema(require)
        except BaseException:
            await Tortoise.close_connections()
            raise


CLOSE_GRACE_S = 10.0
"""How long closing waits for connections still in use to come back before closing them."""


async def close_db(grace_s: float = CLOSE_GRACE_S) -> None:
    """Close every connection. One still in use after ``grace_s`` (a task stuck on it, or one
    lost by a cancelled transaction) is closed under it, instead of the close waiting for ever
    (aiomysql's ``wait_closed`` has no deadline)."""
    closing = asyncio.ensure_future(Tortoise.close_connections())
    done, _ = await asyncio.wait([closing], timeout=grace_s)
    if not done:
        in_use = 0
        for conn in connections.all():
            pool = getattr(conn, "_pool", None)
            if pool is not None:
                in_use += len(getattr(pool, "_used", ()))
                pool.terminate()
        log.warning(
            "database connections still in use at close: closed under their users",
            extra={"connections": in_use, "after_s": grace_s},
        )
        # The first close waits on a condition nothing will signal now; again, it finds none
        # in use and ends.
        closing.cancel()
        await asyncio.gather(closing, return_exceptions=True)
        await Tortoise.close_connections()
        return
    await closing


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBConnectionError | TransactionManagementError):
        return True
    if isinstance(exc, OperationalError | pymysql.err.OperationalError):
        code = _mysql_code(exc)
        if code is not None:
            return code in TRANSIENT_MYSQL_CODES
        text = str(exc).lower()
        return "lost connection" in text or "gone away" in text or "deadlock" in text
    return isinstance(exc, ConnectionError | OSError | pymysql.err.InterfaceError)


def _mysql_code(exc: BaseException) -> int | None:
    """The server's error code, from the driver's exception or the ORM's wrapping of it."""
    wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
    for candidate in (exc, wrapped, exc.__cause__, exc.__context__):
        if isinstance(candidate, pymysql.err.Error) and candidate.args:
            code = candidate.args[0]
            if isinstance(code, int):
                return code
    return None


async def retry_transient(
    operation: Callable[[], Awaitable[T]], attempts: int = 4, first_delay: float = 0.05
) -> T:
    """Run ``operation`` (a whole transaction) again when it fails for a transient reason."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:
            # A cancellation the driver turned into its own error is no reason to try again.
            raise_if_cancelling()
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("transient database error, retrying", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay *= 4
    raise AssertionError("unreachable")


Statement = tuple[str, Sequence[Any]]


async def run_transaction_mysql(statements: Sequence[Statement]) -> None:
    """Run ``statements`` (``%s`` placeholders) as one transaction in ONE round trip.

    An insert-only write (a new entity and its outbox row) needs no answer between its
    statements, so BEGIN, the inserts and COMMIT travel together: a quarter of the round trips,
    and of the event-loop work, of four separate ones. A failing statement stops the batch
    before COMMIT; the connection is rolled back before it returns to the pool.
    """
    sql = "BEGIN; " + "; ".join(s for s, _ in statements) + "; COMMIT"
    params = [p for _, ps in statements for p in ps]
    client: Any = connections.get("default")
    async with client.acquire_connection() as raw:
        try:
            async with raw.cursor() as cursor:
                await cursor.execute(sql, params)
                while await cursor.nextset():
                    pass
        except pymysql.err.Error as exc:
            with contextlib.suppress(Exception):
                await raw.rollback()
            raise _translated(exc) from exc


def _translated(exc: pymysql.err.Error) -> Exception:
    """The Tortoise exception the ORM would have raised (callers and ``is_transient`` read it)."""
    if isinstance(exc, pymysql.err.IntegrityError):
        return IntegrityError(exc)
    if isinstance(exc, pymysql.err.InterfaceError):
        return DBConnectionError(exc)
    return OperationalError(exc)
