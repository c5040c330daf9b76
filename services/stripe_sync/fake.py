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

from services.runtime.children import ChildUnavailable, child_process, first_answer, free_port

log = logging.getLogger(__name__)

FAKE_API_KEY = "sk_test_twoway_dev"


class FakeStripeUnavailable(ChildUnavailable):
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
    args = (_command(), "--port", str(port), "--from-scratch")
    url = f"http://127.0.0.1:{port}"
    secret = "whsec_" + secrets.token_hex(16)
    hook = {"url": webhook_url, "secret": secret}
    async with child_process(*args, stderr=asyncio.subprocess.DEVNULL) as process:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            await first_answer(
                process, "localstripe", lambda: client.post("/_config/webhooks/twoway", json=hook)
            )
        yield FakeStripe(url=url, api_key=FAKE_API_KEY, webhook_secret=secret)
