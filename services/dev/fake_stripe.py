"""localstripe as a child process, for ``twoway dev`` only.

localstripe is GPL-licensed: twoway never imports it, it only runs the ``localstripe`` command
that the optional ``demo`` extra installs, on a free loopback port, and stops it on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.dev.ports import free_port

log = logging.getLogger(__name__)

FAKE_API_KEY = "sk_test_twoway_dev"


class FakeStripeUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class FakeStripe:
    url: str
    api_key: str
    webhook_secret: str


def _command() -> str:
    beside = Path(sys.executable).with_name("localstripe")
    found = str(beside) if beside.exists() else shutil.which("localstripe")
    if found is None:
        raise FakeStripeUnavailable(
            "localstripe is not installed: pip install 'twoway[demo]', or set STRIPE_API_KEY"
        )
    return found


@contextlib.asynccontextmanager
async def running_fake_stripe(webhook_url: str) -> AsyncIterator[FakeStripe]:
    """Start localstripe, point its webhooks at ``webhook_url``, and stop it on exit."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        _command(),
        "--port",
        str(port),
        "--from-scratch",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C goes to twoway, which stops the child itself
    )
    url = f"http://127.0.0.1:{port}"
    secret = "whsec_" + secrets.token_hex(16)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            for _ in range(100):
                if process.returncode is not None:
                    raise FakeStripeUnavailable(f"localstripe exited with {process.returncode}")
                try:
                    response = await client.post(
                        "/_config/webhooks/twoway", json={"url": webhook_url, "secret": secret}
                    )
                    response.raise_for_status()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise FakeStripeUnavailable("localstripe did not start within 10 s")
        yield FakeStripe(url=url, api_key=FAKE_API_KEY, webhook_secret=secret)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
