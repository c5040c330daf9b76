"""Database transactions: Tortoise's ``in_transaction``, without the connection it can lose.

Tortoise (1.1.9) enters a pooled transaction by taking a connection from the pool and then
sending BEGIN. A task cancelled during BEGIN (a worker stopping mid-handling, a deadline) never
reaches the context's exit, so the connection is never given back: the pool is one short for
good, and closing it waits for that connection for ever (a stopping process hung, and so did
test teardowns). ``transaction()`` gives such a connection back (closed: its protocol state is
unknown) and re-raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction


@contextlib.asynccontextmanager
async def transaction(connection_name: str | None = None) -> AsyncIterator[BaseDBAsyncClient]:
    context: Any = in_transaction(connection_name)
    try:
        conn = await context.__aenter__()
    except BaseException:
        _give_back(context)
        raise
    try:
        yield conn
    except BaseException as exc:
        if not await context.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await context.__aexit__(None, None, None)


def _give_back(context: Any) -> None:
    """Undo a pooled context's half-done entry: the connection it took, the variable it set."""
    client = getattr(context, "client", None)
    connection = getattr(client, "_connection", None)
    pool = getattr(getattr(client, "_parent", None), "_pool", None)
    if connection is None or pool is None or connection not in getattr(pool, "_used", ()):
        return
    connection.close()
    pool.release(connection)
    token = getattr(context, "token", None)
    if token is not None:
        with contextlib.suppress(ValueError, LookupError):
            get_connections().reset(token)
