"""One ``twoway migrate`` at a time per database.

Several may start at once (compose replicas, two deploys). On MySQL/MariaDB a named lock
(``GET_LOCK``) held on a connection of its own makes one apply; the others wait for it, then
find nothing left to do. SQLite serves one host: a file lock beside the database file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tortoise import connections

LOCK_NAME = "twoway.migrate"


class LockTimeout(Exception):
    pass


@contextlib.asynccontextmanager
async def migration_lock(timeout_s: float) -> AsyncIterator[None]:
    client: Any = connections.get("default")
    if client.capabilities.dialect == "mysql":
        async with _mysql_lock(client, timeout_s):
            yield
    else:
        async with _file_lock(str(client.filename), timeout_s):
            yield


@contextlib.asynccontextmanager
async def _mysql_lock(client: Any, timeout_s: float) -> AsyncIterator[None]:
    async with client.acquire_connection() as raw, raw.cursor() as cursor:
        await cursor.execute("SELECT GET_LOCK(%s, %s)", [LOCK_NAME, timeout_s])
        (got,) = await cursor.fetchone()
        if got != 1:
            raise LockTimeout(f"another twoway migrate held the lock for {timeout_s:g} s")
        try:
            yield
        finally:
            await cursor.execute("SELECT RELEASE_LOCK(%s)", [LOCK_NAME])


@contextlib.asynccontextmanager
async def _file_lock(filename: str, timeout_s: float) -> AsyncIterator[None]:
    if filename in ("", ":memory:"):
        yield
        return
    path = Path(f"{filename}.migrate-lock")
    with path.open("a") as handle:  # noqa: ASYNC230  (a local file, opened once)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    raise LockTimeout(
                        f"another twoway migrate held the lock for {timeout_s:g} s"
                    ) from None
                await asyncio.sleep(0.1)  # a file lock cannot be awaited: poll it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
