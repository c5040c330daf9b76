"""The ``twoway`` command: one sub-command per deployable process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.crud.apikeys.command import add_arguments as add_apikey_arguments
from services.ops.dlq_command import add_arguments as add_dlq_arguments
from services.repair.drift_command import add_arguments as add_drift_arguments
from services.repair.reconcile_command import add_arguments as add_reconcile_arguments
from services.runtime.logging import configure_logging
from services.runtime.ports import require_free
from services.runtime.providers import plugin, provider_names
from services.runtime.settings import METRICS_PORT_SETTING, ConfigError, load

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from services.runtime.settings import HttpServiceSettings, ProviderSettings, ServiceSettings

log = logging.getLogger("twoway")


def _serve(app: Starlette, host: str, port: int, settings: HttpServiceSettings) -> None:
    import uvicorn

    from services.runtime.http import server_config

    # Like uvicorn.run(): the server re-raises the signal that stopped it once it has shut
    # down cleanly; a Ctrl-C that ended a clean shutdown is not a failure.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(server_config(app, host, port, settings)).run()


def _require_schema(
    settings: ServiceSettings, packages: Sequence[str], models: Sequence[str]
) -> None:
    """Refuse to start (one line, from ``SchemaBehind``) on a database the code is ahead of;
    for HTTP services, whose own start-up check would end in a server's traceback."""
    from services.runtime.db import close_db, init_db

    async def check() -> None:
        await init_db(settings.database_url.get_secret_value(), models, require=packages)
        await close_db()

    asyncio.run(check())


def _require_topology(settings: ServiceSettings) -> None:
    """Refuse to start (one line, from ``TopologyMismatch``) when the broker holds a queue this
    release declares otherwise. A broker that is down is no reason not to start: HTTP services
    take requests meanwhile."""
    from services.runtime.amqp import AmqpBus
    from services.runtime.bus import BusError

    async def check() -> None:
        bus = AmqpBus(
            settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
        )
        try:
            await bus.connect()
        except BusError as exc:
            log.warning("the broker is not reachable yet", extra={"error": str(exc)})
        finally:
            await bus.close()

    asyncio.run(check())


def cmd_migrate(args: argparse.Namespace) -> int:
    from services import migrate
    from services.runtime.schema.runner import MigrationFailed
    from services.runtime.settings import ServiceSettings

    if args.check_models:
        changes = asyncio.run(migrate.model_changes())
        for change in changes:
            print(f"no migration for: {change}")
        if changes:
            print("write one: twoway migrate --make NAME", file=sys.stderr)
        return 1 if changes else 0
    if args.make:
        for path in asyncio.run(migrate.make(args.make)):
            print(f"wrote {path}")
        return 0
    settings = load(ServiceSettings)
    configure_logging("migrate", settings.log_level, settings.log_format)
    if args.check:
        missing = asyncio.run(migrate.pending(settings))
        for name in missing:
            print(f"pending: {name}")
        print(f"{len(missing)} pending migration(s)" if missing else "schema up to date")
        return 1 if missing else 0
    if args.sql:
        for line in asyncio.run(migrate.sql(settings)):
            print(line)
        return 0
    try:
        applied = asyncio.run(migrate.migrate(settings, lambda name: print(f"applied {name}")))
    except MigrationFailed as exc:
        print(f"twoway migrate: {exc}", file=sys.stderr)
        return 1
    print(f"schema up to date ({len(applied)} applied now)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from services import migrate
    from services.runtime.amqp_doctor import differences
    from services.runtime.settings import ServiceSettings

    settings = load(ServiceSettings)
    configure_logging("doctor", settings.log_level, settings.log_format)
    trouble = 0
    for name in asyncio.run(migrate.pending(settings)):
        print(f"database: migration {name} has not run. Fix: `twoway migrate`")
        trouble += 1
    found = asyncio.run(
        differences(
            settings.amqp_url.get_secret_value(), settings.retry_delays_ms, settings.work_queues()
        )
    )
    for difference in found:
        print(f"broker: queue {difference.queue}: {difference.problem}. Fix: {difference.fix}")
        trouble += 1
    print(f"{trouble} problem(s)" if trouble else "database and broker match this release")
    return 1 if trouble else 0


def cmd_dlq(args: argparse.Namespace) -> int:
    from services.ops import dlq_command
    from services.ops.settings import OpsSettings

    settings = load(OpsSettings)
    configure_logging("dlq", settings.log_level, settings.log_format)
    return asyncio.run(dlq_command.main(settings, args, sys.stdout))


def cmd_apikey(args: argparse.Namespace) -> int:
    from services.crud.apikeys import command
    from services.runtime.settings import ServiceSettings

    settings = load(ServiceSettings)
    configure_logging("apikey", settings.log_level, settings.log_format)
    return asyncio.run(command.main(settings, args, sys.stdout, sys.stderr))


def cmd_crud(args: argparse.Namespace) -> int:
    from services.crud.app import SCHEMA, Roles, create_app, running
    from services.crud.entities import model_modules
    from services.crud.settings import CrudSettings
    from services.runtime.process import run_process, run_until_signal

    settings = load(CrudSettings)
    configure_logging("crud", settings.log_level, settings.log_format)
    _require_schema(settings, SCHEMA, model_modules())
    _require_topology(settings)
    require_free(settings.metrics_port, METRICS_PORT_SETTING)
    if args.role in ("all", "api"):
        require_free(args.port, "--port", args.host)
    roles = Roles(
        api=args.role in ("all", "api"),
        relay=args.role in ("all", "relay"),
        inbound=args.role in ("all", "consumers"),
        sync_results=args.role in ("all", "consumers"),
    )
    if roles.api:
        _serve(create_app(settings, roles), args.host, args.port, settings)
        return 0

    async def background_only() -> None:
        async with running(settings, roles):
            log.info("crud running without HTTP API", extra={"role": args.role})
            await run_until_signal([], [])

    run_process(background_only())
    return 0


def cmd_webhook_gateway(args: argparse.Namespace) -> int:
    from services.webhook_gateway.app import create_app
    from services.webhook_gateway.settings import GatewaySettings

    settings = load(GatewaySettings)
    configure_logging("webhook_gateway", settings.log_level, settings.log_format)
    _require_topology(settings)
    require_free(settings.metrics_port, METRICS_PORT_SETTING)
    require_free(args.port, "--port", args.host)
    _serve(create_app(settings), args.host, args.port, settings)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from services.runtime.process import run_process, run_until_signal
    from services.runtime.providers import WorkerRun, plugin

    settings = _provider_settings(args.provider)
    configure_logging(f"{args.provider}_sync", settings.log_level, settings.log_format)
    require_free(settings.metrics_port, METRICS_PORT_SETTING)
    worker = plugin(args.provider).worker(
        settings, WorkerRun(metrics_port=settings.metrics_port or None)
    )
    run_process(run_until_signal([], [worker]))
    return 0


def _provider_settings(name: str) -> ProviderSettings:
    """A provider's settings, read from the environment, with what its worker and the repair
    jobs need (a one-line ``ConfigError`` naming the variable that is missing)."""
    from services.runtime.providers import plugin

    found = plugin(name)
    settings = load(found.settings)
    settings.require(*found.worker_needs, provider=name)
    return settings


def cmd_reconcile(args: argparse.Namespace) -> int:
    from services.crud.settings import CrudSettings
    from services.repair import reconcile_command

    sync = _provider_settings(args.provider)
    crud = load(CrudSettings)
    configure_logging("reconcile", sync.log_level, sync.log_format)
    try:
        return asyncio.run(reconcile_command.main(args, sync, crud, sys.stdout))
    except KeyboardInterrupt:
        print("reconcile interrupted: go on with --resume", file=sys.stderr)
        return 130


def cmd_drift(args: argparse.Namespace) -> int:
    from services.crud.settings import CrudSettings
    from services.repair import drift_command

    sync = _provider_settings(args.provider)
    crud = load(CrudSettings)
    configure_logging("drift", sync.log_level, sync.log_format)
    return asyncio.run(drift_command.main(args, sync, crud, sys.stdout))


def cmd_repair(args: argparse.Namespace) -> int:
    from services.crud.settings import CrudSettings
    from services.repair.main import main as repair_main
    from services.repair.settings import RepairSettings
    from services.runtime.process import run_process, run_until_signal
    from shared.kinds import Provider

    repair = load(RepairSettings)
    sync = _provider_settings(args.provider)
    crud = load(CrudSettings)
    configure_logging(f"{args.provider}_repair", repair.log_level, repair.log_format)
    port = repair.metrics_port
    if port is None:
        port = plugin(args.provider).repair_metrics_port
    require_free(port, METRICS_PORT_SETTING)
    job = repair_main(
        repair, sync, crud, provider=Provider(args.provider), metrics_port=port or None
    )
    run_process(run_until_signal([], [job]))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from services.dev.main import DevOptions, run_dev
    from services.runtime.settings import ServiceSettings

    settings = load(ServiceSettings)
    fmt = settings.log_format if "log_format" in settings.model_fields_set else "auto"
    configure_logging("dev", settings.log_level, fmt)
    # Both servers would print the same start-up lines; the banner says where they listen.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    asyncio.run(run_dev(DevOptions(args.host, args.port, args.gateway_port)))
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("twoway")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twoway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"twoway {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "dev", help="run every role in one process, with embedded defaults (try it locally)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="the CRUD API's port")
    p.add_argument("--gateway-port", type=int, default=8001, help="the webhook gateway's port")
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("migrate", help="apply the schema's pending migrations")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="list the pending migrations; exit 1 if any"
    )
    mode.add_argument(
        "--sql", action="store_true", help="print the SQL it would run; apply nothing"
    )
    mode.add_argument(
        "--check-models",
        action="store_true",
        help="exit 1 if a model differs from what the migration files build (no database)",
    )
    mode.add_argument(
        "--make", metavar="NAME", help="write the migrations the models' changes need"
    )
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "doctor",
        help="compare the database and the broker with what this release needs; say the fix",
    )
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("dlq", help="list, show, replay or purge dead-lettered messages")
    add_dlq_arguments(p)
    p.set_defaults(func=cmd_dlq)

    p = sub.add_parser("apikey", help="create, list or revoke the CRUD API's keys")
    add_apikey_arguments(p)
    p.set_defaults(func=cmd_apikey)

    p = sub.add_parser(
        "reconcile",
        help="link, import and push what exists at a provider and here (adopting an account)",
    )
    add_reconcile_arguments(p)
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser(
        "crud", help="run the CRUD HTTP API, the outbox relay and the inbound consumer"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--role",
        choices=["all", "api", "relay", "consumers"],
        default="all",
        help="all (default): API, relay and consumers (inbound commands, sync results) in "
        "one process; or only one of them",
    )
    p.set_defaults(func=cmd_crud)

    p = sub.add_parser(
        "webhook-gateway",
        help="receive the providers' webhooks (POST /webhooks/PROVIDER) and hand them on",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.set_defaults(func=cmd_webhook_gateway)

    p = sub.add_parser("sync", help="send entity changes to a provider (its outbound worker)")
    p.add_argument("provider", choices=provider_names())
    p.set_defaults(func=cmd_sync)
    for name in provider_names():
        # Each worker's name before ``sync PROVIDER``: kept working.
        p = sub.add_parser(f"{name}-sync", help=plugin(name).description)
        p.set_defaults(func=cmd_sync, provider=name)

    p = sub.add_parser(
        "repair",
        help="read back webhooks that never arrived (catch-up) and repair drift (audit)",
    )
    p.add_argument("provider", choices=provider_names())
    p.set_defaults(func=cmd_repair)
    for name in provider_names():
        # The name each provider's repair role had before ``repair PROVIDER``: kept working.
        p = sub.add_parser(f"{name}-repair", help=f"the same as `twoway repair {name}`")
        p.set_defaults(func=cmd_repair, provider=name)

    p = sub.add_parser("drift", help="compare here with a provider: `twoway drift report`")
    add_drift_arguments(p)
    p.set_defaults(func=cmd_drift)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"twoway: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
