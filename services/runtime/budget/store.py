"""The shared budget's connection to MySQL/MariaDB, and the one round trip that serves it
(the tables are in ``schema``).

Every time comes from the database's clock (``NOW(6)``, the session in UTC), so the processes'
own clocks never need to agree; a process only adds durations it measured itself. The
connection is the budget's own (not the ORM pool, whose connections the workers' row locks may
all hold while they wait for a slot), in autocommit and READ COMMITTED: each statement is its
own short transaction and leasing takes no gap locks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomysql
import pymysql

from services.runtime.budget.schema import BUDGETS, MEMBERS, SLOTS

_INSERT_CHUNK = 1000
# A lease takes the rows free the longest (``ORDER BY free_at LIMIT n``). Left to itself,
# MariaDB plans that UPDATE as a range over the primary key and a filesort: every row of the
# budget read and sorted on every lease, so a turn cost grew with the limit (about 25 ms at
# 10,000 rows). Walking the free_at index reads the rows it takes, and a few more.
_BY_FREE_AT = f"FORCE INDEX ({SLOTS}_free)"
CONTENDED_CODES = frozenset({1205, 1213})  # lock wait timeout, deadlock: try again, no outage


class StoreUnavailable(Exception):
    """The database did not answer (or answered with an error): the coordinator is gone."""


class StoreContended(Exception):
    """A statement lost a lock race (deadlock, lock wait timeout): simply try again."""


@dataclass
class Exchange:
    """What one round trip does, in this order. Durations are microseconds from ``NOW(6)``.

    ``usable``: leases only take rows below it (the rows above are reserved for members that
    may be on their fallback share); ``alive``: refresh this member's heartbeat; ``census``:
    count the members (fresh: heartbeat within ``stale_us``; stale: within ``reserve_us``).
    """

    usable: int
    hold_us: int
    collect_from: int  # lease ids from here on are not handed out yet
    bulk_grace_us: int
    stale_us: int
    reserve_us: int
    pause_us: int = 0
    releases: list[tuple[int, int, int]] = field(default_factory=list)  # slot, lease, free in
    adopt: tuple[int, int] | None = None  # rows, busy for
    leases: list[tuple[int, int, int]] = field(default_factory=list)  # rows, grace, lease id
    alive: bool = False
    census: bool = False


@dataclass
class Census:
    fresh: int
    stale: int
    busy: int  # rows busy now, deployment-wide


@dataclass
class Answer:
    leased: list[tuple[int, int, int]]  # slot, lease, microseconds until its lease ends
    adopted: int
    capacity: int
    paused_us: int
    next_free_us: int | None  # the soonest row to free (may be < 0: free, but live's for now)
    census: Census | None = None


def _close_if_connected(connecting: asyncio.Future[Any]) -> None:
    if not connecting.cancelled() and connecting.exception() is None:
        connecting.result().close()


def connect_args(url: str) -> dict[str, Any]:
    """aiomysql's arguments for a ``mysql://user:pass@host:port/db`` URL."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "db": parts.path.strip("/"),
    }


class SlotStore:
    """One budget's rows, through one connection of its own."""

    def __init__(self, url: str, budget: str, member: str, timeout_s: float = 5.0) -> None:
        self.member = member
        self.timeout_s = timeout_s
        self._args = connect_args(url)
        self._conn: Any = None
        self._budget = budget

    async def connect(self) -> None:
        if self._conn is not None:
            return
        # Shielded: a connection that a cancellation or timeout interrupts is closed when it
        # comes, not left to the garbage collector.
        connecting = asyncio.ensure_future(
            aiomysql.connect(**self._args, autocommit=True, connect_timeout=self.timeout_s)
        )
        try:
            async with asyncio.timeout(self.timeout_s):
                self._conn = await asyncio.shield(connecting)
        except BaseException as exc:
            connecting.add_done_callback(_close_if_connected)
            if isinstance(exc, pymysql.err.Error | OSError | TimeoutError):
                raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
            raise
        await self._run(
            "SET time_zone = '+00:00', innodb_lock_wait_timeout = %s; "
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            (max(1, int(self.timeout_s)),),
            2,
        )

    def disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, sql: str, args: tuple[Any, ...], reads: int) -> list[Any]:
        """Run ``sql`` (several statements), one round trip; each statement's rows or count."""
        if self._conn is None:
            raise StoreUnavailable("not connected")
        out: list[Any] = []
        try:
            async with asyncio.timeout(self.timeout_s), self._conn.cursor() as cursor:
                await cursor.execute(sql, args)
                while True:
                    rows = await cursor.fetchall()
                    out.append(rows if cursor.description else cursor.rowcount)
                    if not await cursor.nextset():
                        break
        except asyncio.CancelledError:
            self.disconnect()  # its answer is still on the wire: the connection is unusable
            raise
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in CONTENDED_CODES:
                raise StoreContended(str(exc)) from exc
            self.disconnect()
            raise StoreUnavailable(str(exc)) from exc
        except (pymysql.err.Error, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            self.disconnect()
            raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
        if len(out) != reads:
            raise AssertionError(f"expected {reads} results, got {len(out)}")
        return out

    async def ensure(self, capacity: int, window_s: float) -> None:
        """Create this budget's rows (safe to run every start, concurrently); the tables come
        from ``twoway migrate``.

        The last process to start sets the capacity: rows past it are never leased again.
        """
        name = self._budget
        (rows,) = await self._run(f"SELECT COUNT(*) FROM {SLOTS} WHERE budget = %s", (name,), 1)
        for first in range(int(rows[0][0]), capacity, _INSERT_CHUNK):
            slots = range(first, min(capacity, first + _INSERT_CHUNK))
            values = ", ".join(["(%s, %s)"] * len(slots))
            await self._run(
                f"INSERT INTO {SLOTS} (budget, slot) VALUES {values} "
                "ON DUPLICATE KEY UPDATE slot = slot",
                tuple(v for slot in slots for v in (name, slot)),
                1,
            )
        await self._run(
            f"INSERT INTO {BUDGETS} (name, capacity, window_s) VALUES (%s, %s, %s) "
            "ON DUPLICATE KEY UPDATE capacity = %s, window_s = %s",
            (name, capacity, window_s, capacity, window_s),
            1,
        )

    async def exchange(self, ex: Exchange) -> Answer:
        """Everything one turn of the budget's loop needs, in one round trip."""
        b, me = self._budget, self.member
        sql: list[str] = []
        args: list[Any] = []
        at: dict[str, int] = {}  # where a statement's result will be

        def add(statement: str, *values: Any, name: str = "") -> None:
            at[name] = len(sql)
            sql.append(statement)
            args.extend(values)

        if ex.pause_us:
            add(
                f"UPDATE {BUDGETS} SET paused_until = "
                "GREATEST(paused_until, NOW(6) + INTERVAL %s MICROSECOND) WHERE name = %s",
                ex.pause_us,
                b,
            )
        for slot, lease, free_in_us in ex.releases:
            add(
                f"UPDATE {SLOTS} SET free_at = NOW(6) + INTERVAL %s MICROSECOND, holder = '' "
                "WHERE budget = %s AND slot = %s AND holder = %s AND lease = %s",
                free_in_us,
                b,
                slot,
                me,
                lease,
            )
        if ex.adopt is not None:
            # Any free row, the reserved ones too: they were kept for requests like these.
            rows, busy_us = ex.adopt
            add(
                f"UPDATE {SLOTS} {_BY_FREE_AT} "
                "SET free_at = NOW(6) + INTERVAL %s MICROSECOND, holder = '' "
                f"WHERE budget = %s AND slot < (SELECT capacity FROM {BUDGETS} WHERE name = %s) "
                "AND free_at <= NOW(6) ORDER BY free_at LIMIT %s",
                busy_us,
                b,
                b,
                rows,
                name="adopt",
            )
        for rows, grace_us, lease in ex.leases:
            add(
                f"UPDATE {SLOTS} {_BY_FREE_AT} SET free_at = NOW(6) + INTERVAL %s MICROSECOND, "
                "holder = %s, lease = %s "
                "WHERE budget = %s AND slot < %s "
                "AND free_at <= NOW(6) - INTERVAL %s MICROSECOND "
                f"AND (SELECT paused_until FROM {BUDGETS} WHERE name = %s) <= NOW(6) "
                "ORDER BY free_at LIMIT %s",
                ex.hold_us,
                me,
                lease,
                b,
                ex.usable,
                grace_us,
                b,
                rows,
            )
        # Rows leased now, or by an earlier turn whose answer was lost, not yet handed out.
        add(
            "SELECT slot, lease, TIMESTAMPDIFF(MICROSECOND, NOW(6), free_at) "
            f"FROM {SLOTS} WHERE budget = %s AND holder = %s AND lease >= %s",
            b,
            me,
            ex.collect_from,
            name="leased",
        )
        add(
            "SELECT capacity, GREATEST(0, TIMESTAMPDIFF(MICROSECOND, NOW(6), paused_until)), "
            "(SELECT TIMESTAMPDIFF(MICROSECOND, NOW(6), MIN(s.free_at)) "
            f" FROM {SLOTS} s WHERE s.budget = b.name AND s.slot < %s "
            "  AND s.free_at > NOW(6) - INTERVAL %s MICROSECOND) "
            f"FROM {BUDGETS} b WHERE b.name = %s",
            ex.usable,
            ex.bulk_grace_us,
            b,
            name="state",
        )
        if ex.alive:
            add(
                f"INSERT INTO {MEMBERS} (budget, member, seen_at) VALUES (%s, %s, NOW(6)) "
                "ON DUPLICATE KEY UPDATE seen_at = NOW(6)",
                b,
                me,
            )
        if ex.census:
            fresh = "seen_at > NOW(6) - INTERVAL %s MICROSECOND"
            recent = "seen_at > NOW(6) - INTERVAL %s MICROSECOND"
            add(
                f"SELECT COALESCE(SUM({fresh}), 0), "
                f"       COALESCE(SUM(NOT ({fresh}) AND {recent}), 0), "
                f"       (SELECT COUNT(*) FROM {SLOTS} WHERE budget = %s AND free_at > NOW(6)) "
                f"FROM {MEMBERS} WHERE budget = %s",
                ex.stale_us,
                ex.stale_us,
                ex.reserve_us,
                b,
                b,
                name="census",
            )
        results = await self._run("; ".join(sql), tuple(args), len(sql))
        ((cap, paused_us, next_free_us),) = results[at["state"]]
        answer = Answer(
            leased=[(int(s), int(lease), int(left)) for s, lease, left in results[at["leased"]]],
            adopted=int(results[at["adopt"]]) if "adopt" in at else 0,
            capacity=int(cap),
            paused_us=int(paused_us),
            next_free_us=None if next_free_us is None else int(next_free_us),
        )
        if "census" in at:
            ((fresh_count, stale_count, busy),) = results[at["census"]]
            answer.census = Census(int(fresh_count), int(stale_count), int(busy))
        return answer

    async def leave(self, window_s: float) -> None:
        """Give back every row this process holds (counted for one more window: their
        requests were cut short, the server may have seen them) and leave the members."""
        await self._run(
            f"UPDATE {SLOTS} SET free_at = NOW(6) + INTERVAL %s MICROSECOND, holder = '' "
            f"WHERE budget = %s AND holder = %s; "
            f"DELETE FROM {MEMBERS} WHERE budget = %s AND member = %s",
            (int(window_s * 1e6), self._budget, self.member, self._budget, self.member),
            2,
        )

    async def forget_stale_members(self) -> None:
        await self._run(
            f"DELETE FROM {MEMBERS} WHERE budget = %s AND seen_at < NOW(6) - INTERVAL 1 DAY",
            (self._budget,),
            1,
        )
