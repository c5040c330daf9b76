"""HTTP helpers every service's endpoints share, and the uvicorn server they run under.

A client may hold a connection only so long: the request head must arrive within the
keep-alive timeout (:class:`HeadDeadlineProtocol`), the body within the body deadline
(:class:`BodyDeadline`, then 408), and the number of connections is capped
(``limit_concurrency``, then 503).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httptools
import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.runtime.settings import HttpServiceSettings


class BodyTooLarge(Exception):
    """The request body is over the endpoint's limit (answer 413)."""


class BodyTimeout(Exception):
    """The request body did not arrive within the deadline (answer 408)."""


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as the declared or received size passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


class BodyDeadline:
    """ASGI middleware: the whole request body must arrive within ``seconds`` of the request
    head, or reading it raises :class:`BodyTimeout` (a slow upload would otherwise hold its
    buffer and socket for as long as the client likes)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:  # later receives wait for a disconnect: not the body's business
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout() from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_in_time, send)


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the keep-alive timeout also bounding a request head.

    uvicorn arms its keep-alive timer only after a response and disarms it on any byte, so a
    client that connects and then sends its headers a byte at a time holds the connection
    forever. Here the timer is also armed when a connection opens, and only a complete request
    head stops it.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def data_received(self, data: bytes) -> None:
        # uvicorn's, less its disarming of the timer on any byte.
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no service serves WebSockets

    def on_headers_complete(self) -> None:
        self._unset_keepalive_if_required()
        super().on_headers_complete()


def server_config(
    app: ASGIApp, host: str, port: int, settings: HttpServiceSettings
) -> uvicorn.Config:
    """The uvicorn configuration every twoway HTTP service runs with."""
    return uvicorn.Config(
        BodyDeadline(app, settings.http_body_timeout_s),
        host=host,
        port=port,
        http=HeadDeadlineProtocol,
        ws="none",
        limit_concurrency=settings.http_max_concurrency,
        timeout_keep_alive=settings.http_keepalive_s,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
