"""Property: a shuffled customer event stream, with duplicates, converges to its last event."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.crud.customers.models import Customer
from services.crud.inbound.apply import Applier
from shared.commands import Delete, Upsert
from tests.conftest import truncate_all
from tests.crud.inbound_helpers import delete, inbox_outcomes, linked, upsert

pytestmark = [pytest.mark.mariadb]

apply = Applier()

Command = Upsert | Delete


@dataclass(frozen=True)
class Stream:
    commands: list[Command]  # in the order the provider emitted them
    deliveries: list[Command]  # shuffled, with duplicates


@st.composite
def snapshots(draw: st.DrawFn, entity: int) -> dict[str, object]:
    return {
        "name": draw(st.sampled_from(["Ada", "Ada King", "Grace", "Grace Hopper"])),
        # Each entity draws from its own emails: two customers never claim the same one.
        "email": f"c{entity}-{draw(st.integers(0, 2))}@example.com",
        "phone": draw(st.sampled_from([None, "+44 1", "+1 555 0100"])),
        "metadata": draw(st.dictionaries(st.sampled_from(["plan", "tier"]), st.sampled_from("ab"))),
    }


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    commands: list[Command] = []
    for entity in range(draw(st.integers(1, 3))):
        external_id = f"cus_{entity}"
        # Seconds strictly grow within an entity; a tie between two different changes is
        # undecidable from the event alone (see the tie tests) and left out here.
        seconds = iter(range(entity, 1000, 3))
        commands.append(upsert(next(seconds), external_id, initial=True, **draw(snapshots(entity))))
        for _ in range(draw(st.integers(0, 4))):
            commands.append(upsert(next(seconds), external_id, **draw(snapshots(entity))))
        if draw(st.booleans()):
            commands.append(delete(next(seconds), external_id))
    repeats = draw(st.lists(st.sampled_from(commands), max_size=len(commands)))
    return Stream(commands, draw(st.permutations(commands + repeats)))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams())
async def test_shuffled_duplicated_streams_converge_to_the_last_event(
    db: None, stream: Stream
) -> None:
    await truncate_all()
    for command in stream.deliveries:
        await apply(command)

    last: dict[str, Command] = {}
    for command in stream.commands:
        last[command.external_id] = command  # emitted order: the last one wins
    for external_id, final in last.items():
        customer = await linked(external_id)
        if isinstance(final, Delete):
            assert customer is None, external_id
        else:
            assert customer is not None, external_id
            got = {k: getattr(customer, k) for k in ("name", "email", "phone", "metadata")}
            assert got == final.data, external_id
    alive = sum(isinstance(c, Upsert) for c in last.values())
    assert await Customer.all().count() == alive
    # Every distinct event is recorded exactly once, duplicates not at all.
    assert len(await inbox_outcomes()) == len(stream.commands)
