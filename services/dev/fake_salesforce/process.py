"""The fake Salesforce as a child process (tests, ``twoway dev``): ``async with
running_fake_salesforce(outbound_url=...) as proc`` gives ``proc.url``, ``proc.client_id``,
``proc.client_secret``, ``proc.org_id`` and ``proc.integration_user_id``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.dev.ports import free_port

# The directory holding the ``services`` package, so the child imports this very code.
_ROOT = Path(__file__).resolve().parents[3]


class FakeSalesforceUnavailable(RuntimeError):
    pass


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
    args = [sys.executable, "-m", "services.dev.fake_salesforce", "--port", str(port)]
    args += ["--parent-pid", str(os.getpid())]
    if outbound_url is not None:
        args += ["--outbound-url", outbound_url]
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C goes to the parent, which stops the child itself
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            for _ in range(200):
                if process.returncode is not None:
                    raise FakeSalesforceUnavailable(
                        f"the fake Salesforce exited with {process.returncode}"
                    )
                try:
                    response = await client.get("/_fake/config")
                    response.raise_for_status()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise FakeSalesforceUnavailable("the fake Salesforce did not start within 10 s")
        config = response.json()
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
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
