"""``twoway drift report [PROVIDER] [--kind K] [--json]``: what differs now, read-only.

Every object at the provider is read (bulk lane) and compared with its local entity. Listed:
values the provider holds that twoway did not know of (drift: the audit repairs these), and
local changes still on their way to the provider (``pending``). Objects linked to nothing here
are counted (``twoway reconcile`` adopts them).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from services.crud.settings import CrudSettings
from services.repair.wiring import app_side, database, provider_side
from services.runtime.providers import provider_names
from services.runtime.repair.reconcile import pages
from services.runtime.repair.target import Difference
from services.runtime.settings import ServiceSettings
from shared.kinds import EntityKind, Provider


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="drift_command", required=True)
    report = sub.add_parser("report", help="list what differs now between here and a provider")
    names = provider_names()
    report.add_argument("provider", nargs="?", choices=names, default=names[0])
    report.add_argument(
        "--kind", choices=[k.value for k in EntityKind], default=EntityKind.CUSTOMER.value
    )
    report.add_argument("--json", action="store_true", help="one JSON document instead of text")


async def collect(
    provider: Provider, sync: ServiceSettings, crud: CrudSettings, kind: EntityKind
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    objects = unlinked = 0
    async with provider_side(provider, sync) as sources:
        target = app_side(crud, provider)
        async for page in pages(sources.objects, kind, None):
            objects += len(page.items)
            for look in await target.looks(kind, page.items):
                if look.entity_id is None:
                    unlinked += 1
                    continue
                for d in look.differences:
                    rows.append(
                        {
                            "external_id": look.external_id,
                            "entity_id": look.entity_id,
                            "path": d.path,
                            "app": d.app,
                            "provider": d.provider,
                            "state": _state(d),
                        }
                    )
    return {"kind": kind.value, "objects": objects, "unlinked": unlinked, "differences": rows}


def _state(difference: Difference) -> str:
    if not difference.known:
        return "drift"
    return "pending" if difference.pending else "differs"


async def main(
    args: argparse.Namespace,
    sync: ServiceSettings,
    crud: CrudSettings,
    out: TextIO,
    own_database: bool = True,
) -> int:
    """``sync``: the provider's settings (its ``ProviderPlugin.settings``)."""
    async with database(sync.database_url.get_secret_value(), own_database):
        found = await collect(Provider(args.provider), sync, crud, EntityKind(args.kind))
    if args.json:
        print(json.dumps(found, indent=2), file=out)
    else:
        print(
            f"{found['objects']} {found['kind']} objects at {args.provider}, "
            f"{found['unlinked']} not linked here, {len(found['differences'])} differences",
            file=out,
        )
        for row in found["differences"]:
            print(
                f"  {row['state']:<8} {row['external_id']} {row['entity_id']} {row['path']}: "
                f"app={json.dumps(row['app'])} provider={json.dumps(row['provider'])}",
                file=out,
            )
    drift = any(row["state"] == "drift" for row in found["differences"])
    return 3 if drift else 0
