"""A reconcile run's checkpoint: where it is, and what it counted so far.

Saved after every page it finished (in the push phase, in the transaction of the page's
events), so a run stopped anywhere (crash, Ctrl-C, kill) goes on from the last page with
``--resume``; the objects of an unfinished page are found applied already (the inbox knows their
synthetic event ids) and counted as they were then.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.runtime.repair.models import ReconcileRun
from shared.kinds import EntityKind, Provider

MAX_NOTES = 10_000


@dataclass
class RunState:
    """What a run knows; a dry run keeps it in memory only."""

    provider: Provider
    kind: EntityKind
    id: int | None = None
    phase: str = "link"
    cursor: str | None = None
    push_cursor: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[dict[str, Any]] = field(default_factory=list)
    resumed: bool = False
    linked: set[str] = field(default_factory=set)
    """A dry run's local entities that its link phase would have linked."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def tag(self) -> str:
        """What the run's synthetic event ids start with."""
        return f"reconcile:{self.id if self.id is not None else 'dry'}"

    def note(self, **entry: Any) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(entry)
        else:
            self.counts["notes_left_out"] += 1


async def start(provider: Provider, kind: EntityKind, resume: bool) -> RunState:
    """A new run, or with ``resume`` the newest unfinished one (a new one if there is none).
    Without ``resume``, unfinished runs are abandoned: a fresh run redoes what they did, and
    the inbox makes that cheap."""
    unfinished = ReconcileRun.filter(
        provider=provider.value, entity=kind.value, status="running"
    ).order_by("-id")
    if resume and (row := await unfinished.first()) is not None:
        return RunState(
            provider,
            kind,
            id=row.id,
            phase=row.phase,
            cursor=row.cursor,
            push_cursor=row.push_cursor,
            counts=Counter(row.counts or {}),
            notes=list(row.notes or []),
            resumed=True,
            started_at=row.started_at,
        )
    await unfinished.update(status="abandoned", updated_at=datetime.now(UTC))
    now = datetime.now(UTC)
    row = await ReconcileRun.create(
        provider=provider.value,
        entity=kind.value,
        status="running",
        phase="link",
        counts={},
        notes=[],
        started_at=now,
        updated_at=now,
    )
    return RunState(provider, kind, id=row.id, started_at=now)


async def save(run: RunState, finished: bool = False) -> None:
    """Write the checkpoint (on the caller's transaction, if one is open)."""
    if run.id is None:
        return
    now = datetime.now(UTC)
    await ReconcileRun.filter(id=run.id).update(
        phase=run.phase,
        cursor=run.cursor,
        push_cursor=run.push_cursor,
        counts=dict(run.counts),
        notes=run.notes,
        status="done" if finished else "running",
        updated_at=now,
        finished_at=now if finished else None,
    )
