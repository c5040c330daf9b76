"""Property: random interleavings of app and dashboard edits converge, and lose nothing.

Every service runs (see ``conftest.py``). A scenario is a few rounds. In a round, twoway's
requests to Stripe are held (a slow Stripe) and Stripe's events are captured; the app and the
dashboard edit random paths (two of the kind's fields and two metadata keys, for every
registered kind), and now and then the events so far are delivered, shuffled and some twice.
At the end of the round the held requests go through, and every event (the echoes of twoway's
own writes too) is delivered the same way until the system is quiet. Then:

- both sides are equal, path by path, and in sync;
- a path edited on one side only, or on both but where every app edit saw the dashboard's
  (its event had been applied locally before), ends with the last of those edits;
- conflicts are recorded for exactly the paths with a concurrent pair: an app edit made before
  a dashboard edit of the same path was applied locally (the dashboard never sees app edits
  within a round: they are held).

Deliveries are delayed and duplicated. With events as real Stripe sends them
(``previous_attributes``, ``request``) the echoes of twoway's own writes are also shuffled among
the dashboard's events, and that last point is exact. localstripe's events say neither what
changed nor who changed it, so there the events keep Stripe's order, and a sequential edit
within Stripe's one-second clock may be taken for a concurrent one: every concurrent path must
have a conflict, and nothing else is lost. The dashboard's own events keep their order among
themselves in both modes: Stripe's whole-second ``created`` cannot order two changes of one
object in the same second (``tests/crud/test_merge.py`` covers what ``previous_attributes``
allow there).
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.crud.inbound.models import InboxEntry
from services.runtime.providers import all_work_queues
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.entities import KINDS
from shared.fields import flatten
from tests.contract.cases import KindCase, stripe_object
from tests.e2e.conftest import System
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
    pytest.mark.parametrize(
        "fake_stripe", [True, False], ids=["stripe", "localstripe"], indirect=True
    ),
]

SLOTS = 4
"""A scenario edits four paths of the kind: two of its fields and two metadata keys."""


def paths_of(case: KindCase) -> tuple[str, ...]:
    return (*case.edits[:2], "metadata.plan", "metadata.tier")


Op = tuple[str, int]  # ("app" | "dashboard", slot) or ("deliver", -1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[list[Op]], int]:
    rounds = []
    for _ in range(draw(st.integers(1, 3))):
        edit = st.tuples(st.sampled_from(["app", "dashboard"]), st.integers(0, SLOTS - 1))
        step = st.one_of(edit, edit, edit, st.just(("deliver", -1)))
        rounds.append(draw(st.lists(step, min_size=1, max_size=6)))
    return rounds, draw(st.integers(0, 2**32 - 1))


def value_of(case: KindCase, side: str, path: str, stamp: str) -> Any:
    """A value of ``path`` no other edit of the scenario makes."""
    stamp = f"{stamp}{0 if side == 'app' else 1}"
    if path.startswith("metadata."):
        return f"{side}-{stamp}"
    return case.value(path, stamp)


@dataclass
class Round:
    """What one round did, to tell what must hold after it."""

    app: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    dashboard: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    seen_at: dict[int, int] = field(default_factory=dict)  # dashboard step -> step applied

    def concurrent(self, path: str) -> bool:
        return any(
            a_step < self.seen_at.get(d_step, 10**6)
            for a_step, _ in self.app.get(path, [])
            for d_step, _ in self.dashboard.get(path, [])
        )

    def expected(self, path: str) -> str | None:
        """The value ``path`` must end with, if it had no concurrent pair."""
        if self.concurrent(path):
            return None
        edits = self.app.get(path, []) or self.dashboard.get(path, [])
        return edits[-1][1] if edits else None


class Scenario:
    def __init__(self, system: System, case: KindCase, rng: random.Random) -> None:
        self.system = system
        self.case = case
        self.rng = rng

    @property
    def one(self) -> str:
        return f"{self.case.path}/{self.entity_id}"

    async def setup(self) -> tuple[str, str]:
        created = await self.system.api.post(
            self.case.path, json=self.case.create(uuid.uuid4().int % 10**12)
        )
        assert created.status_code == 201
        self.entity_id = created.json()["id"]

        async def linked() -> str | None:
            body = (await self.system.api.get(self.one)).json()
            stripe = body["sync"]["stripe"]
            return stripe["external_id"] if stripe["status"] == "synced" else None

        external_id = await eventually(linked)
        assert external_id
        self.external_id: str = external_id
        await self.system.quiet()
        return self.entity_id, self.external_id

    async def local(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.system.api.get(self.one)).json()
        return body

    async def app_edit(self, path: str, value: Any) -> None:
        body: dict[str, Any]
        if path.startswith("metadata."):
            metadata = dict((await self.local())["metadata"])
            metadata[path.split(".", 1)[1]] = value
            body = {"metadata": metadata}
        else:
            body = {path: value}
        response = await self.system.api.patch(self.one, json=body)
        assert response.status_code == 200, response.text

    async def dashboard_edit(self, path: str, value: Any) -> None:
        if path.startswith("metadata."):
            params: dict[str, Any] = {"metadata": {path.split(".", 1)[1]: value}}
        else:
            params = {path: value}
        async with self.system.fake.client() as stripe:
            await self.case.resource(stripe).update_async(self.external_id, params=params)

    async def deliver_captured(self) -> int:
        """Deliver what was captured, partly twice; reordered where the events say what
        changed (Stripe's), else in Stripe's order. Returns how many distinct events."""
        taken = self.system.fake.take_captured()
        if not taken:
            return 0
        if self.system.fake.stripe_like:
            order = [event for event, ours in taken if not ours]
            for event in (event for event, ours in taken if ours):
                order.insert(self.rng.randint(0, len(order)), event)
        else:
            order = [event for event, _ in taken]
        for _ in range(self.rng.randint(0, len(taken))):
            # A duplicate comes again later, as a redelivery would.
            first = self.rng.randrange(len(order))
            order.insert(self.rng.randint(first + 1, len(order)), order[first])
        for event in order:
            response = await self.system.fake.deliver(event)
            assert response is not None and response.status_code == 200
        ids = {e["id"] for e, _ in taken}

        async def applied() -> bool:
            return await InboxEntry.filter(event_id__in=list(ids)).exclude(
                outcome="pending"
            ).count() == len(ids)

        assert await eventually(applied), "delivered events were not applied"
        return len(ids)

    async def play(self, number: int, ops: list[Op]) -> Round:
        done = Round()
        fake = self.system.fake
        fake.hold()
        pending_dashboard: list[int] = []
        paths = paths_of(self.case)
        for step, (side, slot) in enumerate(ops):
            if side == "deliver":
                await self.deliver_captured()
                for d_step in pending_dashboard:
                    done.seen_at[d_step] = step
                pending_dashboard.clear()
                continue
            path = paths[slot]
            value = value_of(self.case, side, path, f"{number}{step:02d}")
            if side == "app":
                await self.app_edit(path, value)
                done.app.setdefault(path, []).append((step, value))
            else:
                await self.dashboard_edit(path, value)
                done.dashboard.setdefault(path, []).append((step, value))
                pending_dashboard.append(step)
        fake.release()
        while True:
            await self.system.quiet(timeout=15)
            if not await self.deliver_captured():
                break
        return done

    async def conflicted_paths(self, since: int) -> tuple[set[str], int]:
        body = (
            await self.system.api.get(
                "/conflicts", params={"entity_id": self.entity_id, "limit": "200"}
            )
        ).json()
        records = [r for r in body["data"] if int(r["id"]) > since]
        newest = max([since, *(int(r["id"]) for r in body["data"])])
        return {r["field"] for r in records}, newest


def flat_of(case: KindCase, state: dict[str, Any]) -> dict[str, Any]:
    fields = KINDS[case.kind].data.synced_fields
    metadata = {k: v for k, v in (state["metadata"] or {}).items() if k != LOCAL_ID_METADATA_KEY}
    return flatten({**{k: state.get(k) for k in fields}, "metadata": metadata}, fields)


# HYPOTHESIS_PROFILE=deep: run with ``-o timeout=0`` (200 examples outlast pytest's limit).
settings.register_profile(
    "deep",
    max_examples=200,
    derandomize=False,
    # One example costs seconds: a counterexample is reported as drawn, not shrunk.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
BUDGET = (
    settings.get_profile("deep")
    if os.environ.get("HYPOTHESIS_PROFILE") == "deep"
    # The same examples on every run: CI must not turn red on a draw. What a deeper search
    # finds is pinned by a test of its own (as below).
    else settings(max_examples=10, derandomize=True)
)


@settings(
    BUDGET,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_random_concurrent_edits_converge_and_lose_nothing(
    system: System, case: KindCase, scenario: tuple[list[list[Op]], int]
) -> None:
    await converge_and_lose_nothing(system, case, scenario)


A_VALUE_WRITTEN_TWICE: tuple[list[list[Op]], int] = (
    [[("dashboard", 1), ("app", 1), ("deliver", -1), ("dashboard", 1)], [("app", 0)]],
    256443,
)
"""Found by the property (issue 10's branch drew it): the dashboard sets A; the app sets B
(held); A is applied as the conflict's winner and re-sent; the dashboard changes A -> C; then
twoway's B and A land, and the echoes arrive as: A's (it replaced B), C's (it replaced A), B's.
When C's event comes, "from A" fits both "after twoway's A" and "before twoway's B": A's echo
does not tell, as B is a value twoway wrote itself, and B's echo (it replaced C) is not in, so
time decides (C came before the writes were answered): a conflict, whose winner ends on both
sides (``tests/crud/test_merge.py`` has every order of the three events)."""


async def test_a_change_from_a_value_twoway_wrote_twice_converges(
    system: System, case: KindCase
) -> None:
    if not system.fake.stripe_like:
        pytest.skip("localstripe's events keep Stripe's order: the gap needs reordering")
    await converge_and_lose_nothing(system, case, A_VALUE_WRITTEN_TWICE)


RESENT_THEN_CHANGED: list[tuple[list[list[Op]], int]] = [
    (
        [
            [("app", 3), ("deliver", -1), ("app", 2), ("deliver", -1), ("deliver", -1)],
            [("app", 0), ("dashboard", 0)],
            [("dashboard", 2), ("deliver", -1), ("dashboard", 0), ("deliver", -1)],
        ],
        1,
    ),
    ([[("app", 3)], [("dashboard", 3), ("app", 3), ("app", 2)], [("dashboard", 3)]], 141709),
]
"""Found by the deep profile: the app sets B (held) while the dashboard sets A; A wins the
conflict and is re-sent, so twoway writes B and then A; in the next round the dashboard
changes A -> C, a sequential change. B's echo (it replaced the dashboard's A) came before A's
conflict was merged; it must still place C after twoway's writes, within their second."""


@pytest.mark.parametrize("scenario", RESENT_THEN_CHANGED, ids=["customer-found", "product-found"])
async def test_a_sequential_change_from_a_value_twoway_re_sent_is_no_conflict(
    system: System, case: KindCase, scenario: tuple[list[list[Op]], int]
) -> None:
    await converge_and_lose_nothing(system, case, scenario)


async def converge_and_lose_nothing(
    system: System, case: KindCase, scenario: tuple[list[list[Op]], int]
) -> None:
    rounds, seed = scenario
    play = Scenario(system, case, random.Random(seed))
    await play.setup()
    paths = paths_of(case)
    system.fake.webhook_mode = "capture"
    exact = system.fake.stripe_like
    last_conflict = 0
    try:
        for number, ops in enumerate(rounds):
            done = await play.play(number, ops)
            local = await play.local()
            here = flat_of(case, local)
            there = flat_of(case, stripe_object(case, play.external_id))
            shown = f"{case.kind} round {number} of " + " | ".join(
                " ".join(f"{side}:{paths[slot] if slot >= 0 else ''}" for side, slot in r)
                for r in rounds
            )
            assert here == there, (shown, here, there)
            assert local["sync"]["stripe"]["status"] == "synced"
            for path in paths:
                expected = done.expected(path)
                if expected is not None:
                    assert here.get(path) == expected, (shown, path, here)
            conflicted, last_conflict = await play.conflicted_paths(last_conflict)
            concurrent = {p for p in paths if done.concurrent(p)}
            if exact:
                assert conflicted == concurrent, (shown, conflicted, concurrent)
            else:
                assert concurrent <= conflicted, (shown, conflicted, concurrent)
        for work in all_work_queues():
            assert await system.broker.count(work.dead_letter) == 0
    finally:
        system.fake.release()
        system.fake.webhook_mode = "deliver"
        await asyncio.sleep(0)
