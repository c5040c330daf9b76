"""HTTP helpers every service's endpoints share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.requests import Request


class BodyTooLarge(Exception):
    """The request body is over the endpoint's limit (answer 413)."""


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as the declared or received size passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
