"""Who may see and do what in the UI, over plain HTTP (the browser tests drive the pages)."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from services.crud.apikeys import service as keys
from services.crud.apikeys.models import ApiKey
from services.crud.apikeys.service import KeyVerifier, Scope, digest
from services.crud.ui import sessions
from services.crud.ui import sign_in as sign_in_page
from services.crud.ui.guard import SECURITY_HEADERS
from tests.ui.session import csrf_of, sign_in, ui_client
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


def url_of(crud: httpx.AsyncClient) -> str:
    return str(crud.base_url).rstrip("/")


async def make_customer(client: httpx.AsyncClient, name: str, email: str) -> str:
    form = await client.get("/ui/customers/new")
    answer = await client.post(
        "/ui/customers/new",
        data={
            "csrf": csrf_of(form.text),
            "name": name,
            "email": email,
            "phone": "",
            "metadata": "",
        },
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[-1]


async def test_every_page_has_the_security_headers_and_the_cookie_its_flags(
    crud: httpx.AsyncClient,
) -> None:
    async with httpx.AsyncClient(base_url=url_of(crud)) as anonymous:
        for path in ("/ui/login", "/ui/overview", "/ui/static/ui.css", "/ui/no/such/page"):
            answer = await anonymous.get(path)
            for name, value in SECURITY_HEADERS.items():
                assert answer.headers.get(name) == value, (path, name)
        assert "'unsafe-inline'" not in SECURITY_HEADERS["content-security-policy"]
    async with httpx.AsyncClient(base_url=url_of(crud)) as client:
        answer = await sign_in(client, await keys_for(Scope.READ))
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Max-Age=" in cookie
        assert answer.headers["location"] == "/ui/"
        for path in ("/ui/overview", "/ui/customers", "/ui/products", "/ui/dead-letters"):
            page = await client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.headers["x-content-type-options"] == "nosniff"


async def keys_for(scope: Scope) -> str:
    _, key = await keys.create_key(scope, name="ui tests")
    return key


async def test_no_session_is_sent_to_sign_in_and_a_wrong_key_is_refused(
    crud: httpx.AsyncClient,
) -> None:
    async with httpx.AsyncClient(base_url=url_of(crud)) as client:
        answer = await client.get("/ui/customers")
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
        refused = await sign_in(client, "tw_not_a_key")
        assert refused.status_code == 401
        assert "tw_not_a_key" not in refused.text
        # The API's bearer keys do not open the UI, nor its cookies the API.
        bearer = await client.get(
            "/ui/customers", headers={"Authorization": f"Bearer {await keys_for(Scope.WRITE)}"}
        )
        assert bearer.status_code == 303


async def test_a_read_key_sees_no_control_and_its_posts_get_403(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as writer:
        entity_id = await make_customer(writer, "Ada", "ada@example.com")
    async with ui_client(url_of(crud), Scope.READ) as reader:
        listing = await reader.get("/ui/customers")
        assert "ada@example.com" in listing.text and "/ui/customers/new" not in listing.text
        detail = await reader.get(f"/ui/customers/{entity_id}")
        assert detail.status_code == 200
        assert "/edit" not in detail.text and "/delete" not in detail.text
        csrf = csrf_of(detail.text)  # the sign-out form's: a valid token of this session
        for path, data in [
            ("/ui/customers/new", {"name": "Eve", "email": "eve@example.com"}),
            (f"/ui/customers/{entity_id}/edit", {"name": "Eve", "version": "1"}),
            (f"/ui/customers/{entity_id}/delete", {"version": "1"}),
            ("/ui/dead-letters/replay", {"queue": "stripe.sync", "message_id": "x"}),
            ("/ui/dead-letters/purge", {"queue": "stripe.sync"}),
        ]:
            answer = await reader.post(path, data={"csrf": csrf, **data})
            assert answer.status_code == 403, path
        assert (await reader.get(f"/ui/customers/{entity_id}/edit")).status_code == 403
    async with ui_client(url_of(crud)) as writer:
        detail = await writer.get(f"/ui/customers/{entity_id}")
        assert "Ada" in detail.text and f"/ui/customers/{entity_id}/edit" in detail.text


async def test_a_form_without_its_csrf_token_gets_403(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as client:
        data = {"name": "Ada", "email": "ada@example.com"}
        assert (await client.post("/ui/customers/new", data=data)).status_code == 403
        stale = {**data, "csrf": "0" * 64}
        assert (await client.post("/ui/customers/new", data=stale)).status_code == 403
        async with httpx.AsyncClient(base_url=url_of(crud)) as other:
            # The sign-in form's token is a double submit: a token without its cookie fails.
            form = await other.get("/ui/login")
            token = csrf_of(form.text)
        answer = await client.post("/ui/login", data={"csrf": token, "key": client.key})  # type: ignore[attr-defined]
        assert answer.status_code == 403
        assert (await client.get("/ui/customers?q=ada")).text.count("ada@example.com") == 0


async def test_a_signed_out_cookie_is_refused(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as client:
        page = await client.get("/ui/customers")
        cookie = client.cookies.get("twoway_ui")
        assert cookie
        out = await client.post("/ui/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    async with httpx.AsyncClient(base_url=url_of(crud), cookies={"twoway_ui": cookie}) as replay:
        answer = await replay.get("/ui/customers")
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
        post = await replay.post("/ui/customers/new", data={"csrf": csrf_of(page.text)})
        assert post.status_code == 401


async def test_a_revoked_key_ends_its_sessions_within_the_cache_time(
    crud: httpx.AsyncClient,
) -> None:
    async with ui_client(url_of(crud)) as client:
        assert (await client.get("/ui/customers")).status_code == 200
        row = await ApiKey.get(key_hash=digest(client.key))  # type: ignore[attr-defined]
        assert await keys.revoke_key(row.id)

        async def refused() -> bool:
            return (await client.get("/ui/customers")).status_code != 200

        # The key cache is 5 s by default.
        assert await eventually(refused, timeout=10, interval=0.2), "the session outlived its key"
        assert (await client.get("/ui/customers")).headers["location"] == "/ui/login"


async def test_validation_errors_stand_next_to_their_field(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as client:
        form = await client.get("/ui/customers/new")
        answer = await client.post(
            "/ui/customers/new",
            data={
                "csrf": csrf_of(form.text),
                "name": "Ada",
                "email": "not an email",
                "metadata": "oops",
            },
        )
        assert answer.status_code == 422
        assert 'id="e-email"' in answer.text or 'id="e-metadata"' in answer.text
        assert 'id="e-name"' not in answer.text
        await make_customer(client, "Ada", "ada@example.com")
        duplicate = await client.post(
            "/ui/customers/new",
            data={"csrf": csrf_of(form.text), "name": "Bob", "email": "ada@example.com"},
        )
        assert duplicate.status_code == 409 and 'id="e-email"' in duplicate.text


async def test_an_edit_made_meanwhile_shows_both_values_and_is_not_overwritten(
    crud: httpx.AsyncClient,
) -> None:
    async with ui_client(url_of(crud)) as client:
        entity_id = await make_customer(client, "Ada", "ada@example.com")
        form = await client.get(f"/ui/customers/{entity_id}/edit")
        assert 'name="version" value="1"' in form.text
        fields = {
            "csrf": csrf_of(form.text),
            "version": "1",
            "email": "ada@example.com",
            "was.name": "Ada",
            "was.email": "ada@example.com",
            "phone": "",
            "was.phone": "",
            "metadata": "",
            "was.metadata": "",
        }
        first = await client.post(
            f"/ui/customers/{entity_id}/edit", data={**fields, "name": "Grace"}
        )
        assert first.status_code == 303
        second = await client.post(
            f"/ui/customers/{entity_id}/edit", data={**fields, "name": "Hedy"}
        )
        assert second.status_code == 409
        assert "Changed meanwhile" in second.text
        assert "Hedy" in second.text and "Grace" in second.text
        assert 'name="version" value="2"' in second.text
        api = await crud.get(f"/customers/{entity_id}")
        assert api.json()["name"] == "Grace"
        # Saving the form again puts the user's value over the current one, knowingly.
        third = await client.post(
            f"/ui/customers/{entity_id}/edit",
            data={
                **fields,
                "csrf": csrf_of(second.text),
                "version": "2",
                "was.name": "Grace",
                "name": "Hedy",
            },
        )
        assert third.status_code == 303
        assert (await crud.get(f"/customers/{entity_id}")).json()["name"] == "Hedy"


async def test_the_list_searches_by_prefix_filters_by_status_and_pages(
    crud: httpx.AsyncClient,
) -> None:
    async with ui_client(url_of(crud)) as client:
        for i in range(27):
            await make_customer(client, f"Name {i:02}", f"user{i:02}@example.com")
        await make_customer(client, "Zed_%", "zed@example.com")
        found = await client.get("/ui/customers", params={"q": "user1"})
        assert found.text.count("@example.com</td>") == 10
        assert "Zed" in (await client.get("/ui/customers", params={"q": "Zed_%"})).text
        assert "No customer here" in (await client.get("/ui/customers", params={"q": "Ze%d"})).text
        first = await client.get("/ui/customers")
        assert first.text.count("@example.com</td>") == 25 and 'rel="next"' in first.text
        # Nothing is synced (no worker runs here): all are pending at Stripe.
        synced = await client.get(
            "/ui/customers", params={"provider": "stripe", "status": "synced"}
        )
        assert "No customer here" in synced.text
        pending = await client.get(
            "/ui/customers", params={"provider": "stripe", "status": "pending", "q": "user2"}
        )
        assert pending.text.count("@example.com</td>") == 7


async def test_the_key_is_never_logged_nor_put_in_a_url_or_cookie(
    crud: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = await keys_for(Scope.WRITE)
    async with httpx.AsyncClient(base_url=url_of(crud)) as client:
        answer = await sign_in(client, key)
        assert answer.status_code == 303
        assert key not in answer.headers["location"] and key not in answer.headers["set-cookie"]
        page = await client.get("/ui/customers")
        assert key not in page.text and key not in str(page.url)
    async with httpx.AsyncClient(base_url=url_of(crud)) as client:
        assert (await sign_in(client, key + "x")).status_code == 401
    assert key not in caplog.text


async def test_an_expired_session_is_refused(crud: httpx.AsyncClient) -> None:
    _, key = await keys.create_key(Scope.WRITE)
    verifier = KeyVerifier(0)
    grant = await verifier.grant(key)
    assert grant is not None
    live = await sessions.start(grant, timedelta(hours=1))
    expired = await sessions.start(grant, timedelta(seconds=-1))
    assert await sessions.find(live, verifier) is not None
    assert await sessions.find(expired, verifier) is None
    async with httpx.AsyncClient(base_url=url_of(crud), cookies={"twoway_ui": expired}) as client:
        assert (await client.get("/ui/customers")).headers["location"] == "/ui/login"


def test_the_cookie_is_secure_when_the_request_came_over_tls() -> None:
    for scheme, secure in (("https", True), ("http", False)):
        request = Request({"type": "http", "scheme": scheme, "headers": [], "path": "/ui/login"})
        response = Response()
        sign_in_page.set_cookie(response, request, "twoway_ui", "token", 60)
        assert ("secure" in response.headers["set-cookie"].lower()) is secure
