"""Acme's webhook verification and normalisation, without a server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import SecretStr

from services.runtime.webhooks import BadSignature, MalformedPayload
from shared.commands import Delete, Upsert
from tests.providers.acme.server import sign
from tests.providers.acme.webhooks import AcmeWebhooks

SECRET = "acme-webhook-secret"
HOOKS = AcmeWebhooks(SecretStr(SECRET), api_user="twoway")


def contact(**changes: Any) -> dict[str, Any]:
    return {
        "id": "ct_00000001",
        "twoway_id": "cus_1",
        "name": "Ada",
        "email": "ada@example.com",
        "phone": None,
        "updated_at": "2026-01-02T03:04:05.678Z",
        "changed_by": "person",
        "deleted": False,
        **changes,
    }


def delivery(event_type: str = "contact.upsert", **changes: Any) -> bytes:
    event = {"id": "evt_7", "type": event_type, "created": 1, "object": contact(**changes)}
    return json.dumps(event).encode()


def headers(body: bytes, at: float | None = None, secret: str = SECRET) -> dict[str, str]:
    return {"acme-signature": sign(secret, body, int(at if at is not None else time.time()))}


def test_a_signed_upsert_is_an_upsert_of_the_customer() -> None:
    body = delivery()
    (command,) = HOOKS.normalize(HOOKS.verify(body, headers(body), {}))
    assert isinstance(command, Upsert)
    assert (command.provider_event_id, command.external_id, command.local_id) == (
        "evt_7",
        "ct_00000001",
        "cus_1",
    )
    assert command.data == {
        "name": "Ada",
        "email": "ada@example.com",
        "phone": None,
        "metadata": {},
    }
    assert command.occurred_at.microsecond == 678_000 and command.clock_resolution_s == 0.001


def test_a_delete_is_a_delete_and_twoways_own_write_is_skipped() -> None:
    body = delivery("contact.delete", deleted=True)
    (command,) = HOOKS.normalize(HOOKS.verify(body, headers(body), {}))
    assert isinstance(command, Delete)
    own = delivery(changed_by="twoway")
    assert HOOKS.normalize(HOOKS.verify(own, headers(own), {})) == []
    other = delivery("account.updated")
    assert HOOKS.normalize(HOOKS.verify(other, headers(other), {})) == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "garbage",
        "t=abc,v1=00",
        "t=1,v1=",
        "t=ü,v1=00",
    ],
)
def test_a_missing_or_malformed_signature_is_refused(signature: str | None) -> None:
    given = {} if signature is None else {"acme-signature": signature}
    with pytest.raises(BadSignature):
        HOOKS.verify(delivery(), given, {})


def test_a_wrong_secret_a_changed_body_or_an_old_or_future_time_is_refused() -> None:
    body = delivery()
    for bad in (
        headers(body, secret="another-secret"),
        headers(delivery(name="Eve")),
        headers(body, at=time.time() - 301),
        headers(body, at=time.time() + 301),
    ):
        with pytest.raises(BadSignature):
            HOOKS.verify(body, bad, {})


def test_a_signed_body_that_is_no_acme_event_is_malformed() -> None:
    for body in (b"not json", b"[]", json.dumps({"id": "evt_1"}).encode()):
        with pytest.raises(MalformedPayload):
            HOOKS.verify(body, headers(body), {})
    body = delivery(updated_at=None)
    with pytest.raises(MalformedPayload):
        HOOKS.normalize(HOOKS.verify(body, headers(body), {}))
