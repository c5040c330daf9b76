"""``twoway apikey create|list|revoke``: API keys from a terminal.

``create`` prints the key alone on stdout (``KEY=$(twoway apikey create --scope write)``) and
the rest on stderr: the key is shown this once, twoway keeps only its hash.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from services.crud.apikeys import service
from services.crud.apikeys.models import ApiKey
from services.crud.apikeys.service import Scope
from services.runtime.db import close_db, init_db
from services.runtime.schema.history import CORE_SCHEMA
from services.runtime.settings import ServiceSettings

MODELS_MODULE = "services.crud.apikeys.models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("create", help="make a key; it is printed once")
    p.add_argument(
        "--scope",
        choices=[s.value for s in Scope],
        required=True,
        help="read: GET only; write: everything",
    )
    p.add_argument("--name", default="", help="what the key is for (shown by list)")
    actions.add_parser("list", help="one line per key (never the key itself)")
    p = actions.add_parser("revoke", help="stop a key working (within TWOWAY_API_KEY_CACHE_S)")
    p.add_argument("key_id", metavar="ID")


def describe(key: ApiKey) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    created = f"{key.created_at:%Y-%m-%d %H:%M}"
    return f"{key.id}  {key.scope:5}  {key.prefix}...  {created}  {state:24}  {key.name}"


async def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.action == "create":
        row, key = await service.create_key(Scope(args.scope), args.name[:100])
        print(key, file=out)
        print(
            f"created {row.scope} key {row.id}: store it now, it is not shown again",
            file=err,
        )
        return 0
    if args.action == "list":
        for row in await service.list_keys():
            print(describe(row), file=out)
        return 0
    if await service.revoke_key(args.key_id):
        print(f"revoked {args.key_id}", file=err)
        return 0
    print(f"no active key {args.key_id!r}", file=err)
    return 1


async def main(
    settings: ServiceSettings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    await init_db(settings.database_url.get_secret_value(), [MODELS_MODULE], require=(CORE_SCHEMA,))
    try:
        return await run(args, out, err)
    finally:
        await close_db()
