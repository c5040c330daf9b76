"""``twoway reconcile <provider> [--kind K] [--dry-run] [--resume] [--report PATH]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
from typing import TextIO

from services.crud.settings import CrudSettings
from services.repair.wiring import app_side, database, provider_side
from services.runtime.providers import provider_names
from services.runtime.repair.progress import Progress
from services.runtime.repair.reconcile import Options, Reconcile
from services.runtime.repair.retry import GaveUp
from services.runtime.repair.runs import RunState
from services.runtime.repair.target import Verdict
from services.runtime.settings import ServiceSettings
from shared.kinds import EntityKind, Provider

log = logging.getLogger(__name__)

ROWS = (
    ("linked", (Verdict.LINKED, Verdict.IN_STEP)),
    ("imported", (Verdict.IMPORTED,)),
    ("pushed", ()),
    ("ambiguous", (Verdict.AMBIGUOUS,)),
    ("failed", (Verdict.FAILED,)),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", choices=provider_names())
    parser.add_argument(
        "--kind", choices=[k.value for k in EntityKind], default=EntityKind.CUSTOMER.value
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would happen; write nothing (no row, no event, no provider write)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="go on with the last run that did not finish"
    )
    parser.add_argument(
        "--report",
        type=Path,
        help="where to write the JSON report (default: reconcile-<provider>-<kind>-<run>.json; "
        "a dry run writes one only when asked)",
    )


def summary(run: RunState) -> dict[str, int]:
    counts = {
        name: sum(run.counts[v.value] for v in verdicts) for name, verdicts in ROWS if verdicts
    }
    counts["pushed"] = run.counts["pushed"]
    counts["in_step"] = run.counts[Verdict.IN_STEP.value]
    counts["gone"] = run.counts[Verdict.GONE.value]
    counts["held"] = run.counts["held"]
    return counts


def print_summary(run: RunState, dry_run: bool, out: TextIO) -> None:
    counts = summary(run)
    title = "would be" if dry_run else "done"
    print(f"reconcile {run.provider.value} {run.kind.value}: {title}", file=out)
    for name, _ in ROWS:
        extra = ""
        if name == "linked" and counts["in_step"]:
            extra = f"  ({counts['in_step']} already in step)"
        print(f"  {name:<10}{counts[name]:>8}{extra}", file=out)
    if counts["gone"]:
        print(f"  {'gone':<10}{counts['gone']:>8}  (deleted here: left alone)", file=out)
    if counts["held"]:
        print(f"  {'held':<10}{counts['held']:>8}  (not pushed: claimed, see report)", file=out)


def report(run: RunState, dry_run: bool) -> dict[str, object]:
    return {
        "provider": run.provider.value,
        "kind": run.kind.value,
        "run": run.id,
        "dry_run": dry_run,
        "status": "done" if run.phase == "done" else "unfinished",
        "counts": summary(run),
        "objects": run.notes,
        "started_at": run.started_at.isoformat(),
    }


async def main(
    args: argparse.Namespace,
    sync: ServiceSettings,
    crud: CrudSettings,
    out: TextIO,
    progress: Progress | None = None,
    own_database: bool = True,
) -> int:
    """``sync``: the provider's settings (its ``ProviderPlugin.settings``)."""
    provider = Provider(args.provider)
    options = Options(EntityKind(args.kind), dry_run=args.dry_run, resume=args.resume)
    async with (
        database(sync.database_url.get_secret_value(), own_database),
        provider_side(provider, sync) as sources,
    ):
        if options.kind not in sources.kinds:
            print(f"{provider.value} does not sync {options.kind.value}", file=out)
            return 2
        job = Reconcile(sources.objects, app_side(crud, provider), progress or Progress())
        try:
            run = await job(options)
        except GaveUp as exc:
            print(f"reconcile stopped: {exc}; go on later with --resume", file=out)
            return 1
    print_summary(run, options.dry_run, out)
    path: Path | None = args.report
    if path is None and not options.dry_run:
        path = Path(f"reconcile-{run.provider.value}-{run.kind.value}-{run.id}.json")
    if path is not None:
        text = json.dumps(report(run, options.dry_run), indent=2) + "\n"
        await asyncio.to_thread(path.write_text, text)
        print(f"report: {path}", file=out)
    return 0
