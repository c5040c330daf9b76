"""Signing a plain HTTP client in to the UI, as a browser's form post would."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx

from services.crud.apikeys.service import Scope
from tests.conftest import api_key

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/ui/login")
    return await client.post("/ui/login", data={"csrf": csrf_of(form.text), "key": key})


@contextlib.asynccontextmanager
async def ui_client(url: str, scope: Scope = Scope.WRITE) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in with a new key of ``scope``; ``client.key`` is the key."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        key = await api_key(scope)
        answer = await sign_in(client, key)
        assert answer.status_code == 303, answer.text
        client.key = key  # type: ignore[attr-defined]
        yield client
