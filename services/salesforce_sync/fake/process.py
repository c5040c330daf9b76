"""The fake Salesforce as a child process (tests, ``twoway dev``): ``async with
running_fake_salesforce(outbound_url=...) as proc`` gives ``proc.url``, ``proc.client_id``,
``proc.client_secret``, ``proc.org_id`` and ``proc.integration_user_id``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.runtime.children import child_process, first_answer, free_port

# The directory holding the ``services`` package, so the child imports this very code.
_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class FakeSalesforceProcess:
    url: str
    client_id: str
    client_secret: str
    org_id: str
    integration_user_id: str
    human_user_id: str
    external_id_field: str
    pid: int


@contextlib.asynccontextmanager
async def running_fake_salesforce(
    port: int | None = None, outbound_url: str | None = None
) -> AsyncIterator[FakeSalesforceProcess]:
    """Start the fake on ``port`` (a free loopback port when None), wait until it answers,
    and stop it on exit."""
    port = port or free_port()
    args = [sys.executable, "-m", "services.salesforce_sync.fake", "--port", str(port)]
    args += ["--parent-pid", str(os.getpid())]
    if outbound_url is not None:
        args += ["--outbound-url", outbound_url]
    url = f"http://127.0.0.1:{port}"
    async with child_process(*args, cwd=_ROOT) as process:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            answer = await first_answer(
                process, "the fake Salesforce", lambda: client.get("/_fake/config")
            )
        config = answer.json()
        yield FakeSalesforceProcess(
            url=url,
            client_id=config["client_id"],
            client_secret=config["client_secret"],
            org_id=config["org_id"],
            integration_user_id=config["integration_user_id"],
            human_user_id=config["human_user_id"],
            external_id_field=config["external_id_field"],
            pid=process.pid,
        )
