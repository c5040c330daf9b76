"""The child processes ``twoway dev`` (and the tests) start: the fakes of Stripe and Salesforce.

Each runs on a free loopback port, in a session of its own (Ctrl-C goes to the parent, which
stops the child itself), is waited for until it answers, and is stopped on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

START_S = 10.0
STOP_S = 5.0
POLL_S = 0.05


class ChildUnavailable(RuntimeError):
    """The child exited, or did not answer within ``START_S``."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def child_process(*args: str, **options: Any) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``args`` as a child; terminated on exit (killed if it does not stop in time)."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, start_new_session=True, **options
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_S)
            except TimeoutError:
                process.kill()
                await process.wait()


async def first_answer(
    process: asyncio.subprocess.Process,
    name: str,
    ask: Callable[[], Awaitable[httpx.Response]],
) -> httpx.Response:
    """``ask`` again until the child answers with a success; ``ChildUnavailable`` if it exits
    or ``START_S`` passes first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_S
    while True:
        if process.returncode is not None:
            raise ChildUnavailable(f"{name} exited with {process.returncode}")
        try:
            response = await ask()
            response.raise_for_status()
            return response
        except httpx.TransportError:
            if loop.time() > deadline:
                raise ChildUnavailable(f"{name} did not start within {START_S:.0f} s") from None
            await asyncio.sleep(POLL_S)
