"""The three-way merge of one inbound change: the provider's state against the shadow (the
base) and the local state, path by path. Pure: no I/O, so it is tested on its own.

For each path the provider may have changed:
1. an exact echo (the provider says twoway's own request made the change) confirms the shadow
   and changes nothing here;
2. stale: the provider itself showed the path at a later moment (a later event, or the change
   this one preceded) -> skipped;
3. the provider's value equals the local one -> converged, the shadow notes it;
4. an echo by value (the provider does not say who wrote): the value is one twoway itself sent
   that no later change of the provider's overtook -> skipped;
5. not concurrent with a local change -> applied locally;
6. concurrent (the local change is not confirmed at the provider, or the provider's change may
   predate twoway's confirmed write) -> a conflict, decided by the kind's ``ConflictRule``.
   The provider's value winning is applied here and re-sent to the provider (an earlier local
   write may land after it); the app's value winning is re-sent unless it is certainly the
   later write there too.

Whether a change is concurrent: where the provider gives the path's previous value (Stripe's
``previous_attributes``), exactly: it saw the app's latest value, or it did not; a change from a
value twoway wrote is placed among twoway's writes by what their echoes said each replaced.
Elsewhere (or where those echoes are not in yet) by time: its change overlaps the span in
which twoway's write took effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from pydantic import JsonValue

from services.crud.sync.clock import FieldClock
from services.crud.sync.rules import ConflictRule, Winner, app_later
from services.runtime.links.shadow import Known, Shadow


@dataclass(frozen=True)
class Observation:
    """The provider's side of one inbound change."""

    provider: str
    state: Mapping[str, JsonValue]
    at: float
    resolution: float = 1.0
    changed: Set[str] | None = None
    previous: Mapping[str, JsonValue] | None = None
    initial: bool = False
    request_known: bool = False
    echo_paths: Set[str] | None = None
    """Set when the change is twoway's own write of ``echo_version``: the paths it wrote."""
    echo_version: int = 0


@dataclass(frozen=True)
class LocalSide:
    state: Mapping[str, JsonValue]
    clock: FieldClock
    sent: Mapping[str, Mapping[JsonValue, int]] = field(default_factory=dict)
    history: Mapping[str, Mapping[JsonValue, int]] = field(default_factory=dict)
    """Per path, the values it had locally since the provider's own last change, with the
    newest version holding each."""
    """Per path, the values twoway sent the provider that its own changes have not overtaken
    (``Shadow.floor``), each with the oldest version that sent it: what an echo may look like
    when the provider does not say who wrote."""


@dataclass(frozen=True)
class ConflictNote:
    path: str
    app_value: JsonValue
    provider_value: JsonValue
    app_at: float
    provider_at: float
    winner: Winner


@dataclass
class Merge:
    apply: dict[str, JsonValue] = field(default_factory=dict)
    resend: set[str] = field(default_factory=set)
    conflicts: list[ConflictNote] = field(default_factory=list)
    echoed: set[str] = field(default_factory=set)
    stale: set[str] = field(default_factory=set)

    @property
    def writes(self) -> bool:
        return bool(self.apply or self.resend)


def candidate_paths(obs: Observation, local: LocalSide, shadow: Shadow) -> set[str]:
    if obs.changed is not None:
        return set(obs.changed)
    return set(obs.state) | set(shadow) | set(local.state)


def merge(obs: Observation, local: LocalSide, shadow: Shadow, rule: ConflictRule) -> Merge:
    """Decide every path of one inbound change; ``shadow`` is updated in place.

    The caller writes ``apply`` and ``resend`` as one local change, then marks the applied
    paths that are not re-sent as held by the provider at the new version (``Shadow.applied``).
    """
    out = Merge()
    if obs.echo_paths is not None:
        for path in obs.echo_paths:
            overwrote = None
            if obs.previous is not None and path in obs.previous:
                overwrote = (obs.previous[path],)
            shadow.echoed(
                path,
                obs.state.get(path),
                obs.echo_version,
                obs.at,
                obs.at + obs.resolution,
                obs.initial,
                overwrote,
            )
            out.echoed.add(path)
        if obs.changed is not None:
            # The provider says what the request changed, and nothing else is looked at: the
            # object as a whole is not taken as seen, so a foreign change made just before
            # still counts when its own event comes.
            return out
    for path in sorted(candidate_paths(obs, local, shadow) - out.echoed):
        _merge_path(path, obs, local, shadow, rule, out)
    shadow.saw_whole(obs.at)
    return out


def _older_state(path: str, theirs: JsonValue, local: LocalSide, known: Known | None) -> bool:
    held = local.history.get(path, {}).get(theirs)
    return known is not None and held is not None and held < known.confirmed


def _merge_path(
    path: str,
    obs: Observation,
    local: LocalSide,
    shadow: Shadow,
    rule: ConflictRule,
    out: Merge,
) -> None:
    theirs = obs.state.get(path)
    known = shadow.get(path)
    base = known.value if known else None
    if obs.changed is None and theirs == base:
        return  # the provider did not change it
    changed_from: tuple[JsonValue] | None = None
    if obs.previous is not None and path in obs.previous:
        changed_from = (obs.previous[path],)
    end = obs.at + obs.resolution
    if _stale(path, theirs, changed_from, obs, shadow):
        out.stale.add(path)
        return
    ours = local.state.get(path)
    version = local.clock.version(path)
    if theirs == ours:
        shadow.observed(path, theirs, obs.at, end, confirmed=version, before=changed_from)
        return
    sent_by = None if obs.request_known else local.sent.get(path, {}).get(theirs)
    if sent_by is not None:
        shadow.written(path, theirs, sent_by, obs.at, end, created=obs.initial)
        out.echoed.add(path)
        return
    pending = version > shadow.confirmed(path)
    if changed_from is not None:
        concurrent = _concurrent_said(path, theirs, changed_from[0], obs, local, known, pending)
    else:
        maybe_after = known is not None and known.unordered and obs.at < known.hi
        if maybe_after and not pending and _older_state(path, theirs, local, known):
            # It shows the path as it was before twoway's last write (an earlier echo, say),
            # which may well have come first: read as such rather than as a change.
            out.stale.add(path)
            return
        concurrent = pending or maybe_after
    shadow.observed(path, theirs, obs.at, end, before=changed_from)
    if not concurrent:
        out.apply[path] = theirs
        return
    if known is not None and known.unordered and known.hi <= obs.at:
        # Twoway's confirmed write certainly landed before this change: overtaken by it.
        # Writes still in flight, or that may have landed after, are not.
        shadow.overtake(path, known.confirmed)
    app_at = local.clock.at(path)
    winner = rule.winner(app_at, obs.at, obs.resolution)
    out.conflicts.append(ConflictNote(path, ours, theirs, app_at, obs.at, winner))
    if winner == "provider":
        out.apply[path] = theirs
        out.resend.add(path)
    elif not app_later(app_at, obs.at, obs.resolution):
        out.resend.add(path)


def _stale(
    path: str,
    theirs: JsonValue,
    changed_from: tuple[JsonValue] | None,
    obs: Observation,
    shadow: Shadow,
) -> bool:
    """The provider itself showed the path later: by time, or as the change this one led to."""
    since = shadow.known_since(path)
    if since and (obs.at + obs.resolution <= since or (obs.initial and obs.at <= since)):
        return True
    known = shadow.get(path)
    if (
        known is not None
        and changed_from is not None
        and obs.at <= known.hi
        and known.preceded_by(theirs, changed_from[0])
    ):
        shadow.preceded(path, changed_from[0])
        return True
    return False


def _concurrent_said(
    path: str,
    theirs: JsonValue,
    before: JsonValue,
    obs: Observation,
    local: LocalSide,
    known: Known | None,
    pending: bool,
) -> bool:
    """Concurrency where the provider said what the path changed from."""
    ours = local.state.get(path)
    own_value = local.clock.origin(path) == obs.provider
    if before == ours and not own_value:
        return False  # it saw the app's value, so twoway's write had landed
    if pending:
        # A local change still on its way (or the provider's own value being re-sent by a
        # resolution, which seeing proves nothing about): it lands after this change.
        return True
    if known is None or not known.unordered:
        return False
    written = [
        value
        for value, held in local.history.get(path, {}).items()
        if known.floor < held < known.confirmed
    ]
    landed_after = _landed_after(theirs, before, known, written)
    if landed_after:
        return True  # the echo of one of twoway's writes said it replaced this change
    if before == ours:
        # From the value twoway's write set: after that write, if the echoes said what came
        # before it (not this change); else by time.
        return landed_after is None and obs.at < known.hi
    # Changed from a value the path had here before twoway's last write: it did not see that
    # write, which landed after it. From a value never seen here: a change of the provider's
    # own came between (its event not in yet), after twoway's write.
    return before in local.history.get(path, {})


def _landed_after(
    theirs: JsonValue, before: JsonValue, known: Known, written: Sequence[JsonValue]
) -> bool | None:
    """Whether twoway's writes in flight landed after a provider change from ``before`` to
    ``theirs``, as their echoes said (``written``: the values of the earlier ones).

    True: one of them replaced it. False: going back from the confirmed write, each replaced
    the one before, down to ``before`` or a value twoway did not write: nowhere between them
    is this change. None: a write on the way back has not said what it replaced (twoway may
    write one value twice, the provider's own value re-sent after a conflict, say, so a change
    from it may have come before the writes or after them).
    """
    chain = known.replacements()
    if any(replaced == theirs for _, replaced in chain):
        return True
    value = known.value
    for _ in range(len(chain)):
        told = [replaced for set_to, replaced in chain if set_to == value]
        if not told:
            return None
        value = told[-1]  # the newest write of that value
        if value == before or value not in written:
            return False
    return None
