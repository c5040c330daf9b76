"""The dead letters page: per work queue, each message's reason, entity and payload; with a
write key, replay one or the selected ones, or purge the queue (after a confirmation).

The same operations as ``twoway dlq`` (``services.runtime.dlq``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from services.crud.entities import ENTITIES
from services.crud.settings import CrudSettings
from services.crud.ui.guard import READ_ONLY, Endpoint, Handler, refused, signed_in
from services.crud.ui.sessions import Session
from services.crud.ui.templates import page
from services.runtime import dlq
from services.runtime.bus import Bus, BusError
from services.runtime.queues import QueueAdmin, QueuedMessage
from shared.kinds import EntityKind
from shared.topology import WorkQueue

SHOWN = 200
"""Dead letters listed per queue; the page says when there are more."""


def entity_link(body: Any) -> str | None:
    """The UI page of the entity a message is about, when its body names one."""
    if not isinstance(body, dict):
        return None
    kind, entity_id = body.get("entity"), body.get("entity_id")
    if kind not in set(EntityKind) or not isinstance(entity_id, str):
        return None
    slice_ = ENTITIES[EntityKind(kind)]
    return f"/ui{slice_.path}/{entity_id}"


def described(message: QueuedMessage) -> dict[str, Any]:
    try:
        body: Any = json.loads(message.body)
    except ValueError:
        body = message.body.decode("utf-8", errors="replace")
    return {"summary": dlq.summarize(message), "body": body, "entity": entity_link(body)}


def broker_needed(handler: Handler) -> Handler:
    """The page says so when RabbitMQ cannot be reached, instead of failing."""

    async def guarded(request: Request, session: Session) -> Response:
        try:
            return await handler(request, session)
        except BusError as exc:
            return refused(request, 503, f"The broker cannot be reached now ({exc}).")

    return guarded


class DeadLetterPages:
    def __init__(self, settings: CrudSettings) -> None:
        self.queues = settings.work_queues()

    def queue(self, name: object) -> WorkQueue:
        return next((w for w in self.queues if w.name == name), self.queues[0])

    @staticmethod
    def admin(request: Request) -> QueueAdmin:
        admin: QueueAdmin = request.app.state.queue_admin
        return admin

    def back(self, work: WorkQueue, **done: int) -> Response:
        query = urlencode({"queue": work.name, **{k: str(v) for k, v in done.items()}})
        return RedirectResponse(f"/ui/dead-letters?{query}", status_code=303)

    async def listing(self, request: Request, session: Session) -> Response:
        admin = self.admin(request)
        counts = {w.name: await admin.count(w.dead_letter) for w in self.queues}
        # Without a choice, the first queue that holds any.
        chosen = request.query_params.get("queue") or next(
            (name for name, count in counts.items() if count), None
        )
        work = self.queue(chosen)
        messages = await dlq.list_dead_letters(admin, work, SHOWN)
        return page(
            request,
            "dead_letters.html",
            {
                "queues": self.queues,
                "work": work,
                "counts": counts,
                "messages": [described(m) for m in messages],
                "more": counts[work.name] > len(messages),
                "replayed": request.query_params.get("replayed"),
                "purged": request.query_params.get("purged"),
            },
        )

    async def replay(self, request: Request, session: Session) -> Response:
        form = await request.form()
        work = self.queue(form.get("queue"))
        one = form.get("message_id")
        ids = (
            [one]
            if isinstance(one, str) and one
            else [v for v in form.getlist("selected") if isinstance(v, str)]
        )
        if not ids:
            return refused(request, 400, "Choose the dead letters to replay.")
        bus: Bus = request.app.state.runtime.bus
        replayed = await dlq.replay(self.admin(request), bus, work, ids)
        return self.back(work, replayed=len(replayed))

    async def purge_form(self, request: Request, session: Session) -> Response:
        if not session.can_write:
            return refused(request, 403, READ_ONLY)
        work = self.queue(request.query_params.get("queue"))
        waiting = await self.admin(request).count(work.dead_letter)
        return page(request, "dead_letters_purge.html", {"work": work, "waiting": waiting})

    async def purge(self, request: Request, session: Session) -> Response:
        form = await request.form()
        work = self.queue(form.get("queue"))
        purged = await dlq.purge(self.admin(request), work)
        return self.back(work, purged=purged)

    def routes(self) -> list[Route]:
        def read(handler: Handler) -> Endpoint:
            return signed_in()(broker_needed(handler))

        def write(handler: Handler) -> Endpoint:
            return signed_in(write=True)(broker_needed(handler))

        return [
            Route("/dead-letters", read(self.listing), methods=["GET"]),
            Route("/dead-letters/replay", write(self.replay), methods=["POST"]),
            Route("/dead-letters/purge", read(self.purge_form), methods=["GET"]),
            Route("/dead-letters/purge", write(self.purge), methods=["POST"]),
        ]
