"""``twoway dlq list|show|replay|purge``: the dead-letter queue from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from services.runtime import dlq
from services.runtime.bus import Bus, BusError
from services.runtime.providers import all_work_queues
from services.runtime.queues import QueueAdmin, QueuedMessage
from shared.topology import WorkQueue

if TYPE_CHECKING:
    from services.ops.settings import OpsSettings

Confirm = Callable[[str], str]
ERROR_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    queues = all_work_queues()
    # The first provider's worker queue: the busiest, and the one a lone provider has.
    common.add_argument(
        "--queue",
        choices=[w.name for w in queues],
        default=queues[0].name,
        help=f"the work queue whose dead letters to handle (default: {queues[0].name})",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", parents=[common], help="one line per dead letter")
    p.add_argument("--limit", type=int, default=None, help="show at most this many")
    p = actions.add_parser("show", parents=[common], help="one dead letter's headers and body")
    p.add_argument("message_id")
    p = actions.add_parser(
        "replay", parents=[common], help="put dead letters back on their work queue"
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("message_ids", nargs="*", default=[], metavar="ID")
    which.add_argument("--all", action="store_true", help="replay every dead letter")
    p = actions.add_parser("purge", parents=[common], help="delete every dead letter, for good")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def work_queue(name: str) -> WorkQueue:
    return next(w for w in all_work_queues() if w.name == name)


async def main(settings: OpsSettings, args: argparse.Namespace, out: TextIO) -> int:
    """Run one ``dlq`` action against RabbitMQ."""
    # aio-pika is imported only when a command talks to RabbitMQ, not to build the parser.
    from services.runtime.amqp import AmqpBus
    from services.runtime.amqp_admin import AmqpQueueAdmin

    url = settings.amqp_url.get_secret_value()
    admin = AmqpQueueAdmin(url)
    bus = AmqpBus(url, settings.retry_delays_ms, settings.work_queues())
    try:
        return await run(args, admin, bus, out, input)
    except BusError as exc:
        # BusError texts name the failure, never the URL (it carries the password).
        print(f"twoway dlq: {exc}", file=sys.stderr)
        return 1
    finally:
        await bus.close()
        await admin.close()


async def run(
    args: argparse.Namespace, admin: QueueAdmin, bus: Bus, out: TextIO, confirm: Confirm
) -> int:
    """Run one ``dlq`` action with the given broker access; returns the exit status."""
    work = work_queue(args.queue)
    # Connecting declares the topology, so a fresh broker has (empty) queues to look into.
    await bus.connect()
    if args.action == "list":
        messages = await dlq.list_dead_letters(admin, work, args.limit)
        _print_table(out, [dlq.summarize(m) for m in messages])
        print(f"{len(messages)} dead letter(s) in {work.dead_letter}", file=out)
        return 0
    if args.action == "show":
        found = await dlq.find(admin, work, args.message_id)
        if found is None:
            print(f"no dead letter {args.message_id!r} in {work.dead_letter}", file=out)
            return 1
        _print_message(out, found)
        return 0
    if args.action == "replay":
        ids = None if args.all else list(args.message_ids)
        replayed = await dlq.replay(admin, bus, work, ids)
        for message_id in replayed:
            print(f"replayed {message_id} -> {work.name}", file=out)
        missing = sorted(set(ids or ()) - set(replayed))
        for message_id in missing:
            print(f"no dead letter {message_id!r} in {work.dead_letter}", file=out)
        print(f"{len(replayed)} message(s) replayed", file=out)
        return 1 if missing else 0
    return await _purge(args, admin, work, out, confirm)


async def _purge(
    args: argparse.Namespace, admin: QueueAdmin, work: WorkQueue, out: TextIO, confirm: Confirm
) -> int:
    waiting = await admin.count(work.dead_letter)
    if waiting == 0:
        print(f"{work.dead_letter} is empty", file=out)
        return 0
    if not args.yes:
        answer = confirm(
            f"Delete {waiting} dead letter(s) from {work.dead_letter} for good? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing purged", file=out)
            return 1
    purged = await dlq.purge(admin, work)
    print(f"purged {purged} message(s) from {work.dead_letter}", file=out)
    return 0


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_table(out: TextIO, rows: list[dlq.DeadLetterSummary]) -> None:
    header = ("MESSAGE ID", "REASON", "ATTEMPTS", "ROUTING KEY", "LAST ERROR")
    lines = [
        (
            r.message_id,
            r.reason,
            "-" if r.attempts is None else str(r.attempts),
            r.routing_key,
            _one_line(r.last_error, ERROR_WIDTH),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header) - 1)]
    for line in [header, *lines]:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print("  ".join([*cells, line[-1]]).rstrip(), file=out)


def _print_message(out: TextIO, message: QueuedMessage) -> None:
    print(f"message id:  {message.message_id}", file=out)
    print(f"routing key: {message.routing_key}", file=out)
    print("headers:", file=out)
    print(json.dumps(dict(message.headers), indent=2, sort_keys=True, default=str), file=out)
    print("body:", file=out)
    try:
        print(json.dumps(json.loads(message.body), indent=2, sort_keys=True), file=out)
    except ValueError:
        print(message.body.decode("utf-8", errors="replace"), file=out)
