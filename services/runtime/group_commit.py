"""Group commit: insert-only transactions of concurrent callers run as one (MySQL/MariaDB).

An API create is a transaction of inserts that needs no answer between its statements (the
entity row and its outbox row). Under load many wait at once; each in its own transaction
costs a round trip, a statement batch to parse and a commit (a log flush) apiece. Here the
callers waiting while a batch runs go together in the next one: one round trip and one commit
for all of them. A lone caller goes at once, never delayed for company.

Each caller's statements stay atomic: they commit together with the others' or not at all. When
a batch fails (one caller's duplicate key, say), each of its callers is run again on its own,
so only the one at fault sees the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.runtime.db import Statement, run_transaction_mysql

MAX_BATCH = 64
"""Callers per batch at most: a bound on the statement and its parameters' size."""


@dataclass
class _Waiting:
    statements: Sequence[Statement]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """Runs callers' insert-only transactions, batched; one batch in flight at a time."""

    def __init__(self) -> None:
        self._queue: list[_Waiting] = []
        self._runner: asyncio.Task[None] | None = None

    async def run(self, statements: Sequence[Statement]) -> None:
        """Run ``statements`` as one transaction (see the module docstring); raises what running
        them alone would raise."""
        waiting = _Waiting(statements)
        self._queue.append(waiting)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), name="group-commit")
        # Shielded: a caller that goes away must not cancel the batch of the others.
        await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await _run(batch)
        finally:
            # Stopped mid-batch (the process is stopping): nobody may wait forever. Whether the
            # batch committed is unknown, as for any write whose answer was lost.
            for waiting in [*batch, *self._queue]:
                _settle(waiting, ConnectionError("the write was interrupted"))


async def _run(batch: list[_Waiting]) -> None:
    try:
        await run_transaction_mysql([s for w in batch for s in w.statements])
    except Exception as exc:  # noqa: BLE001 - handed to its caller, who raises it
        if len(batch) == 1:
            _settle(batch[0], exc)
            return
        for waiting in batch:  # nothing committed: each alone, to find who failed
            try:
                await run_transaction_mysql(waiting.statements)
            except Exception as alone:  # noqa: BLE001 - as above
                _settle(waiting, alone)
            else:
                _settle(waiting, None)
        return
    for waiting in batch:
        _settle(waiting, None)


def _settle(waiting: _Waiting, error: BaseException | None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(error)
