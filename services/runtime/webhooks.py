"""The provider plug-in point: verify a raw delivery, then normalize it into commands.

    WebhookRejected        -- the delivery is refused; nothing is published
    ├── BadSignature       -- 400: missing, malformed, wrong or out-of-tolerance signature
    └── MalformedPayload   -- 400: signed, but not an event this provider would send

A provider answers an event type twoway does not handle with no commands: the gateway still
answers 2xx, or the provider would retry it for days.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse, Response

from shared.commands import Delete, Upsert
from shared.kinds import Provider

Command = Upsert | Delete


class WebhookRejected(Exception):
    status = 400
    code = "rejected"


class BadSignature(WebhookRejected):
    code = "bad_signature"


class MalformedPayload(WebhookRejected):
    code = "malformed_payload"


class WebhookProvider(ABC):
    """One provider's webhooks. Stateless; one instance serves every delivery."""

    provider: Provider
    route = "/webhooks/{provider}"
    """Its path (``{provider}`` is its name); other placeholders reach ``verify``."""

    @abstractmethod
    def verify(
        self, body: bytes, headers: Mapping[str, str], path: Mapping[str, str]
    ) -> Mapping[str, Any]:
        """Check the delivery is authentic and parse it; raise ``WebhookRejected`` if not."""

    @abstractmethod
    def normalize(self, event: Mapping[str, Any]) -> Sequence[Command]:
        """The commands a verified event asks for; none for event types twoway ignores."""

    def acknowledge(self, status: str, detail: Mapping[str, Any]) -> Response:
        """The answer to a delivery taken (``accepted``, ``ignored``): a 2xx."""
        return JSONResponse({"status": status, **detail})

    def out_of_scope(self, event: Mapping[str, Any]) -> str | None:
        """Why an authentic event is not this deployment's (answered 2xx and ignored), as a
        short word for logs and metrics; None when it is."""
        return None
