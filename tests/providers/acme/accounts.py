"""Which Acme account this deployment is bound to (``acme_accounts``).

The first worker to start records the account its token belongs to (``GET /v1/account``); a
worker whose token belongs to another account refuses to run: its writes would land in a CRM
the links in the database know nothing of.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError

from services.runtime.settings import ConfigError
from tests.providers.acme.client import AcmeClient

TABLE = "acme_accounts"


class OtherAccount(ConfigError):
    pass


async def bound_accounts() -> list[str]:
    db: Any = connections.get("default")
    _, rows = await db.execute_query(f"SELECT account_id FROM {TABLE}")
    return [str(r["account_id"]) for r in rows]


async def bind(client: AcmeClient) -> str:
    """The token's account, recorded as the deployment's if none is; raises ``OtherAccount``
    if the deployment is bound to another one."""
    answer = (await client.request("account.get", "GET", "/account")).json()
    account_id, name = str(answer["id"]), str(answer.get("name", ""))
    if not await bound_accounts():
        db: Any = connections.get("default")
        mark = "%s" if db.capabilities.dialect == "mysql" else "?"
        at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        # Another worker may bind it at the same moment: which one did is read below.
        with contextlib.suppress(IntegrityError):
            await db.execute_query(
                f"INSERT INTO {TABLE} (account_id, name, bound_at) VALUES ({mark}, {mark}, {mark})",
                [account_id, name, at],
            )
    bound = await bound_accounts()
    if bound != [account_id]:
        raise OtherAccount(
            f"ACME_API_TOKEN belongs to Acme account {account_id}, but this deployment is "
            f"bound to {', '.join(bound)} ({TABLE})"
        )
    return account_id
