"""A tiny Outbound Message listener: records what arrives, answers from a script."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as SafeXml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.salesforce_sync.fake.soap import OUTBOUND, SOAP, SOBJECT, XSI
from tests.conftest import serve

ACK = (
    f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>{{ack}}</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


@dataclass
class Received:
    headers: dict[str, str]
    org_id: str
    notifications: list[tuple[str, str, dict[str, str]]]
    """(notification Id, sObject type, fields)"""


def parse(body: bytes, headers: dict[str, str]) -> Received:
    root = SafeXml.fromstring(body)
    top = root.find(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    assert top is not None
    items = []
    for item in top.findall(f"{{{OUTBOUND}}}Notification"):
        obj = item.find(f"{{{OUTBOUND}}}sObject")
        assert obj is not None
        fields = {child.tag.removeprefix(f"{{{SOBJECT}}}"): child.text or "" for child in obj}
        items.append((item.findtext(f"{{{OUTBOUND}}}Id") or "", obj.get(f"{{{XSI}}}type") or "",
                      fields))  # fmt: skip
    return Received(headers, top.findtext(f"{{{OUTBOUND}}}OrganizationId") or "", items)


@dataclass
class Receiver:
    url: str = ""
    script: list[tuple[int, str]] = field(default_factory=list)
    """Answers to give, in order, before acking everything."""
    received: list[Received] = field(default_factory=list)

    def notifications(self) -> list[tuple[str, str, dict[str, str]]]:
        return [n for r in self.received for n in r.notifications]


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()

    async def listen(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        state.received.append(parse(await request.body(), headers))
        status, text = state.script.pop(0) if state.script else (200, ACK.format(ack="true"))
        return Response(text, status_code=status, media_type="text/xml")

    app = Starlette(routes=[Route("/outbound", listen, methods=["POST"])])
    async with serve(app) as url:
        state.url = f"{url}/outbound"
        yield state


def nack(**_: Any) -> tuple[int, str]:
    return 200, ACK.format(ack="false")
