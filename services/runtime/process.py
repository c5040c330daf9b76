"""A process's main loop: uvicorn servers and background tasks, stopped by SIGINT/SIGTERM.

``twoway dev`` runs two servers and a worker this way; ``twoway stripe-sync`` one worker.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import uvloop
from starlette.applications import Starlette

from services.runtime.http import EmbeddedServer, server_config
from services.runtime.settings import HttpServiceSettings

T = TypeVar("T")


def run_process(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived process's ``main`` on uvloop, the loop uvicorn gives the HTTP services."""
    return uvloop.run(main)


def embedded_server(
    app: Starlette, host: str, port: int, settings: HttpServiceSettings
) -> EmbeddedServer:
    return EmbeddedServer(server_config(app, host, port, settings))


async def run_until_signal(
    servers: list[EmbeddedServer], background: list[Awaitable[None]]
) -> None:
    """Serve and run ``background`` until SIGINT/SIGTERM, or until any of them stops.

    A background task that ends by itself (a start-up failure) stops the rest, and its error is
    raised here, so the process exits with it instead of idling half-started.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = [asyncio.ensure_future(s.serve()) for s in servers]
    others = [asyncio.ensure_future(b) for b in background]
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([*serving, *others, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers:
            server.should_exit = True
        for task in others:
            task.cancel()
        stopper.cancel()
        results = await asyncio.gather(*serving, *others, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise failures[0]
