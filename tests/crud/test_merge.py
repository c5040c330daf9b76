"""The three-way merge on its own (no I/O): one provider change against the shadow and the app.

The shadow is built the way the services build it: a provider event observed, twoway's write
confirmed by its result or its echo.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.crud.sync.clock import FieldClock
from services.crud.sync.merge import LocalSide, Observation, merge
from services.crud.sync.rules import ConflictRule
from services.runtime.links.shadow import Shadow

T = 1_800_000_000.0


def shadow_of(**paths: Any) -> Shadow:
    """A shadow where the provider last showed ``paths`` at T (as one event)."""
    shadow = Shadow()
    for path, value in paths.items():
        shadow.observed(path, value, T, T + 1, confirmed=1)
    shadow.saw_whole(T)
    return shadow


def local(state: dict[str, Any], ticks: dict[str, tuple[int, float, str]]) -> LocalSide:
    return LocalSide(state, clock_of(**ticks))


def clock_of(**ticks: tuple[int, float, str]) -> FieldClock:
    clock = FieldClock()
    for path, (version, at, origin) in ticks.items():
        clock.tick([path], version, at, origin)
    return clock


def change(state: dict[str, Any], at: float, **extra: Any) -> Observation:
    return Observation(provider="stripe", state=state, at=at, request_known=True, **extra)


def test_disjoint_changes_apply_the_provider_path_and_keep_the_app_one() -> None:
    shadow = shadow_of(name="Ada", phone=None)
    app = local(
        {"name": "Ada King", "phone": None},
        {"name": (2, T + 5, "app"), "phone": (1, T, "app")},
    )
    out = merge(
        change({"name": "Ada", "phone": "+1"}, T + 6, changed={"phone"}, previous={"phone": None}),
        app,
        shadow,
        ConflictRule.LATEST,
    )
    assert out.apply == {"phone": "+1"} and not out.conflicts and not out.resend


def test_same_path_concurrent_change_is_a_conflict_decided_by_the_rule() -> None:
    app = local({"name": "App"}, {"name": (2, T + 1.2, "app")})
    observation = change({"name": "Dash"}, T + 1, changed={"name"}, previous={"name": "Ada"})
    # The provider ticked in the same second: a tie goes to it, and it is re-sent there
    # because the app's write, still on its way, would land after it.
    latest = merge(observation, app, shadow_of(name="Ada"), ConflictRule.LATEST)
    assert latest.apply == {"name": "Dash"} and latest.resend == {"name"}
    (note,) = latest.conflicts
    assert (note.path, note.app_value, note.provider_value, note.winner) == (
        "name",
        "App",
        "Dash",
        "provider",
    )
    # The app wins: nothing changes here, and its value is re-sent (it may land before).
    app_rule = merge(observation, app, shadow_of(name="Ada"), ConflictRule.APP)
    assert app_rule.apply == {} and app_rule.resend == {"name"}
    assert app_rule.conflicts[0].winner == "app"


def test_an_app_change_certainly_later_wins_without_a_resend() -> None:
    app = local({"name": "App"}, {"name": (2, T + 9, "app")})
    out = merge(
        change({"name": "Dash"}, T + 3, changed={"name"}, previous={"name": "Ada"}),
        app,
        shadow_of(name="Ada"),
        ConflictRule.LATEST,
    )
    assert out.apply == {} and out.resend == set() and out.conflicts[0].winner == "app"


def test_a_provider_change_that_saw_the_app_value_is_sequential() -> None:
    shadow = shadow_of(name="Ada")
    shadow.written("name", "App", 2, T + 1.0, T + 1.1)  # twoway's write, answered
    app = local({"name": "App"}, {"name": (2, T + 0.9, "app")})
    out = merge(
        change({"name": "Dash"}, T + 1, changed={"name"}, previous={"name": "App"}),
        app,
        shadow,
        ConflictRule.LATEST,
    )
    assert out.apply == {"name": "Dash"} and not out.conflicts


def test_a_change_the_echo_says_twoways_write_replaced_is_a_conflict() -> None:
    shadow = shadow_of(name="Ada")
    shadow.echoed("name", "App", 2, T + 2, T + 3, False, ("Dash",))  # it replaced "Dash"
    app = local({"name": "App"}, {"name": (2, T + 0.9, "app")})
    replaced = change({"name": "Dash"}, T + 1, changed={"name"}, previous={"name": "Ada"})
    assert merge(replaced, app, shadow, ConflictRule.LATEST).conflicts
    later = change({"name": "Eve"}, T + 2, changed={"name"}, previous={"name": "Zed"})
    assert not merge(later, app, shadow_of_echo(), ConflictRule.LATEST).conflicts


def shadow_of_echo() -> Shadow:
    shadow = shadow_of(name="Ada")
    shadow.echoed("name", "App", 2, T + 2, T + 3, False, ("Ada",))  # it replaced nothing foreign
    return shadow


def written_twice() -> tuple[Shadow, LocalSide]:
    """Twoway wrote "A" twice: the app set "B" (v2) while the dashboard set "A" from "X"; "A"
    won the conflict and was re-sent (v3); both writes were confirmed by their results."""
    shadow = shadow_of(name="X")
    history = {"name": {"B": 2, "X": 1}}
    app = LocalSide({"name": "B"}, clock_of(name=(2, T + 0.5, "app")), history=history)
    dashboard = change({"name": "A"}, T + 1, changed={"name"}, previous={"name": "X"})
    resolved = merge(dashboard, app, shadow, ConflictRule.LATEST)
    assert resolved.apply == {"name": "A"} and resolved.resend == {"name"}
    shadow.written("name", "B", 2, T + 3.0, T + 3.1)
    shadow.written("name", "A", 3, T + 3.2, T + 3.3)
    history = {"name": {"A": 3, "B": 2, "X": 1}}
    return shadow, LocalSide({"name": "A"}, clock_of(name=(3, T + 1, "stripe")), history=history)


def echo_of(version: int, value: str, replaced: str) -> Observation:
    return change(
        {"name": value},
        T + 3,
        changed={"name"},
        previous={"name": replaced},
        echo_paths={"name"},
        echo_version=version,
    )


@pytest.mark.parametrize("order", list(itertools.permutations(["v2", "v3", "change"])))
def test_a_change_from_a_value_twoway_wrote_twice_is_placed_by_the_echoes(
    order: tuple[str, ...],
) -> None:
    """The provider went X, A, C (the dashboard), B, A (twoway's v2 and v3). "C from A" fits
    both "after v3" and "before v2": v2's echo (it replaced C) says which; until it is in, v3's
    echo (it replaced B, a value twoway itself wrote) does not settle it, and time does. In
    every order of arrival the change is concurrent, and its winner ends on both sides."""
    shadow, app = written_twice()
    events = {
        "v2": echo_of(2, "B", replaced="C"),
        "v3": echo_of(3, "A", replaced="B"),
        "change": change({"name": "C"}, T + 2, changed={"name"}, previous={"name": "A"}),
    }
    outs = {name: merge(events[name], app, shadow, ConflictRule.LATEST) for name in order}
    out = outs["change"]
    assert [note.winner for note in out.conflicts] == ["provider"]
    assert out.apply == {"name": "C"} and out.resend == {"name"}


@pytest.mark.parametrize("order", [("v2", "v3"), ("v3", "v2")])
def test_echoes_of_both_writes_place_a_change_from_the_value_after_them(
    order: tuple[str, ...],
) -> None:
    """As above, but v2 replaced the dashboard's own "A": the provider went X, A, B, A, and
    then C, within the writes' second. With both echoes in, the change is sequential."""
    shadow, app = written_twice()
    events = {"v2": echo_of(2, "B", replaced="A"), "v3": echo_of(3, "A", replaced="B")}
    for name in order:
        merge(events[name], app, shadow, ConflictRule.LATEST)
    later = change({"name": "C"}, T + 3, changed={"name"}, previous={"name": "A"})
    out = merge(later, app, shadow, ConflictRule.LATEST)
    assert out.apply == {"name": "C"} and not out.conflicts and not out.resend


def test_an_echo_merged_before_the_conflict_still_places_a_later_change() -> None:
    """B's echo (it replaced the dashboard's A) comes before A's own event, which wins the
    conflict and is re-sent; A's echo says it replaced B. A change from A in the writes'
    second is sequential: the shadow kept B's echo across the merge of A."""
    shadow = shadow_of(name="X")
    history = {"name": {"B": 2, "X": 1}}
    app = LocalSide({"name": "B"}, clock_of(name=(2, T + 0.5, "app")), history=history)
    shadow.written("name", "B", 2, T + 3.0, T + 3.1)
    merge(echo_of(2, "B", replaced="A"), app, shadow, ConflictRule.LATEST)
    dashboard = change({"name": "A"}, T + 1, changed={"name"}, previous={"name": "X"})
    resolved = merge(dashboard, app, shadow, ConflictRule.LATEST)
    assert resolved.apply == {"name": "A"} and resolved.resend == {"name"}
    shadow.written("name", "A", 3, T + 3.2, T + 3.3)
    history = {"name": {"A": 3, "B": 2, "X": 1}}
    app = LocalSide({"name": "A"}, clock_of(name=(3, T + 1, "stripe")), history=history)
    merge(echo_of(3, "A", replaced="B"), app, shadow, ConflictRule.LATEST)
    later = change({"name": "C"}, T + 3, changed={"name"}, previous={"name": "A"})
    out = merge(later, app, shadow, ConflictRule.LATEST)
    assert out.apply == {"name": "C"} and not out.conflicts and not out.resend


def test_an_earlier_writes_echo_survives_the_shadows_round_trip() -> None:
    shadow, _ = written_twice()
    shadow.echoed("name", "A", 3, T + 3, T + 4, False, ("B",))
    shadow.echoed("name", "B", 2, T + 3, T + 4, False, ("C",))
    known = Shadow.load(shadow.dump()).get("name")
    assert known is not None and known.replacements() == (("B", "C"), ("A", "B"))
    old = shadow.dump()
    old["paths"]["name"] = old["paths"]["name"][:8]  # as stored before ``earlier``
    assert Shadow.load(old).get("name") == replace(known, earlier=())


def test_provider_changes_delivered_in_reverse_are_stale_along_the_whole_chain() -> None:
    shadow = shadow_of(tier=None)
    app = local({"tier": None}, {"tier": (1, T, "app")})
    steps = [("t1", None), ("t2", "t1"), ("t3", "t2")]
    events = [
        change({"tier": to}, T + 1, changed={"tier"}, previous={"tier": was}) for to, was in steps
    ]
    first = merge(events[2], app, shadow, ConflictRule.LATEST)
    assert first.apply == {"tier": "t3"}
    applied = local({"tier": "t3"}, {"tier": (2, T + 1, "stripe")})
    shadow.applied("tier", 2)
    for late in (events[1], events[0]):
        out = merge(late, applied, shadow, ConflictRule.LATEST)
        assert out.apply == {} and out.stale == {"tier"} and not out.conflicts


def test_an_exact_echo_confirms_the_shadow_and_changes_nothing() -> None:
    shadow = shadow_of(name="Ada")
    app = local({"name": "App"}, {"name": (2, T + 0.5, "app")})
    echo = change(
        {"name": "App", "phone": "+9"},
        T + 1,
        changed={"name"},
        previous={"name": "Ada"},
        echo_paths={"name"},
        echo_version=2,
    )
    out = merge(echo, app, shadow, ConflictRule.LATEST)
    assert out.echoed == {"name"} and out.apply == {} and not out.conflicts
    assert shadow.confirmed("name") == 2 and shadow.values()["name"] == "App"


def test_without_previous_values_a_change_against_the_shadow_is_applied() -> None:
    shadow = shadow_of(name="Ada", phone=None)
    app = local({"name": "Ada", "phone": None}, {"name": (1, T, "app"), "phone": (1, T, "app")})
    out = merge(
        Observation(provider="stripe", state={"name": "Ada", "phone": "+1"}, at=T + 5),
        app,
        shadow,
        ConflictRule.LATEST,
    )
    assert out.apply == {"phone": "+1"}


def test_an_older_event_than_the_providers_last_shown_state_is_stale() -> None:
    shadow = shadow_of(name="Ada")
    shadow.observed("name", "Newer", T + 10, T + 11)
    shadow.saw_whole(T + 10)
    app = local({"name": "Newer"}, {"name": (2, T + 10, "stripe")})
    out = merge(
        Observation(provider="stripe", state={"name": "Older"}, at=T + 5),
        app,
        shadow,
        ConflictRule.LATEST,
    )
    assert out.stale == {"name"} and out.apply == {}


@pytest.mark.parametrize("rule", list(ConflictRule))
@given(
    app_at=st.floats(0, 10, allow_nan=False),
    provider_at=st.integers(0, 10),
)
def test_every_conflict_leaves_the_winner_on_both_sides(
    rule: ConflictRule, app_at: float, provider_at: int
) -> None:
    """Whatever the rule and times: the winner is applied here or kept; and the provider is
    re-sent the winner unless it certainly holds it already (the app's write lands last)."""
    # Compared as the merge compares them, on the absolute clock: near T a float keeps about
    # 2e-7 s, so an app time a hair before the provider's tick ends rounds onto its end.
    app_time, provider_time = T + app_at, T + provider_at
    app = local({"name": "App"}, {"name": (2, app_time, "app")})
    out = merge(
        change({"name": "Dash"}, provider_time, changed={"name"}, previous={"name": "Ada"}),
        app,
        shadow_of(name="Ada"),
        rule,
    )
    (note,) = out.conflicts
    if note.winner == "provider":
        assert out.apply == {"name": "Dash"} and out.resend == {"name"}
    else:
        assert out.apply == {}
        assert out.resend == ({"name"} if app_time < provider_time + 1 else set())
