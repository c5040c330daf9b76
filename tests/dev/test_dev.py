"""`twoway dev` as a newcomer runs it: one process, embedded defaults, both directions, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.ui.session import sign_in
from tests.waiting import eventually

pytestmark = [pytest.mark.localstripe]

FAKE_KEY = ("sk_test_twoway_dev", "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


WAIT_S = 20.0


async def test_twoway_dev_syncs_both_ways_and_stops_cleanly(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "TWOWAY_DATABASE_URL",
            "SQL_ENGINE_URI",
            "TWOWAY_AMQP_URL",
            "STRIPE_API_KEY",
            "STRIPE_RESTRICTED_KEY",
            "STRIPE_WEBHOOK_SECRET",
        )
    }
    api_port, gateway_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli",
            "dev",
            "--port",
            str(api_port),
            "--gateway-port",
            str(gateway_port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    fake_port = salesforce_port = None
    try:
        assert proc.stdout is not None
        banner = ""
        while "Three systems" not in banner:
            line = await asyncio.to_thread(proc.stdout.readline)
            assert line, f"twoway dev exited early: {proc.stderr.read() if proc.stderr else ''}"
            banner += line
        match = re.search(r"fake Stripe\s+http://127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        fake_port = int(match.group(1))
        fake = f"http://127.0.0.1:{fake_port}"
        sf_match = re.search(r"fake Salesforce\s+http://127\.0\.0\.1:(\d+)", banner)
        assert sf_match, banner
        salesforce_port = int(sf_match.group(1))
        key = re.search(r"API key\s+(tw_\S+)", banner)
        assert key, banner
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", headers=auth) as api,
            httpx.AsyncClient(base_url=fake, auth=FAKE_KEY) as stripe,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{salesforce_port}") as salesforce,
        ):
            await eventually(lambda: _healthy(api), timeout=WAIT_S)
            assert (await api.get("/customers", headers={"Authorization": ""})).status_code == 401
            created = await api.post("/customers", json={"name": "Ada", "email": "ada@x.io"})
            assert created.status_code == 201
            local_id = created.json()["id"]

            async def in_stripe() -> list[dict[str, object]]:
                data = (await stripe.get("/v1/customers")).json()["data"]
                return [c for c in data if c["email"] == "ada@x.io"]

            found = await eventually(in_stripe, timeout=WAIT_S)
            assert found and found[0]["name"] == "Ada"  # type: ignore[index]
            external_id = found[0]["id"]  # type: ignore[index]

            changed = await stripe.post(f"/v1/customers/{external_id}", data={"name": "Grace"})
            assert changed.status_code == 200

            async def changed_here() -> bool:
                body = (await api.get(f"/customers/{local_id}")).json()
                return bool(body["name"] == "Grace")

            assert await eventually(changed_here, timeout=WAIT_S), (
                "the change made in Stripe never came back"
            )
            customer = (await api.get(f"/customers/{local_id}")).json()
            assert customer["version"] == 2
            assert customer["sync"]["stripe"]["external_id"] == external_id

            # The third system, as the banner shows it: the customer is a Contact, and a
            # Salesforce user's edit reaches the app and, through it, Stripe.
            async def contact() -> dict[str, object] | None:
                contacts = (await salesforce.get("/_fake/contacts")).json()
                found = [
                    c
                    for c in contacts
                    if c.get("Twoway_Id__c") == local_id and c.get("LastName") == "Grace"
                ]
                return found[0] if found else None

            found_contact = await eventually(contact, timeout=WAIT_S)
            assert found_contact, "the customer (renamed in Stripe) never reached Salesforce"
            edited = await salesforce.patch(
                f"/_fake/contacts/{found_contact['Id']}",  # type: ignore[index]
                json={"Phone": "+1 555 0199"},
            )
            assert edited.status_code == 200, edited.text

            async def phone_everywhere() -> bool:
                here = (await api.get(f"/customers/{local_id}")).json()
                there = (await stripe.get(f"/v1/customers/{external_id}")).json()
                return bool(here["phone"] == there["phone"] == "+1 555 0199")

            assert await eventually(phone_everywhere, timeout=WAIT_S), (
                "the Salesforce edit never went round"
            )

            # The banner's browser UI: signed in with the banner's key, the customer is listed.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as browser:
                assert (await sign_in(browser, key.group(1))).status_code == 303
                listed = await browser.get("/ui/customers")
                assert listed.status_code == 200 and "Grace" in listed.text, listed.text[:2000]

            product = await api.post("/products", json={"name": "Widget"})  # as the banner says
            assert product.status_code == 201, product.text

            async def product_in_stripe() -> list[dict[str, object]]:
                data = (await stripe.get("/v1/products")).json()["data"]
                return [p for p in data if p["name"] == "Widget"]

            assert await eventually(product_in_stripe, timeout=WAIT_S), (
                "the product never reached Stripe"
            )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err[-2000:]
    assert "twoway dev stopped" in out
    assert (tmp_path / "twoway.db").exists()
    if salesforce_port is not None:
        assert not port_open(salesforce_port), "the fake Salesforce is still running"
    if fake_port is not None:
        assert not port_open(fake_port), "localstripe is still running"
        leftovers = subprocess.run(
            ["pgrep", "-f", f"localstripe --port {fake_port}"], capture_output=True, text=True
        )
        assert leftovers.stdout.strip() == "", "a localstripe child process was left behind"


async def _healthy(client: httpx.AsyncClient) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get("/healthz")).status_code == 200
    return False
