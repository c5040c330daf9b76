"""Applying one inbound command: inbox row, entity change, outbox event and link, one transaction.

Why one transaction: the inbox row is the proof that an event was handled. Written apart from
the change, a crash between the two would either lose the change (inbox first) or apply it twice
(change first). Together they commit or vanish as one, so a redelivery is always safe.

Rules, in order:
- duplicate: the (provider, event id) is in the inbox -> nothing at all changes;
- resolution: the link to the external id, else the local id from the provider's metadata, else
  (upserts only) an unlinked local customer with the same email, else a new customer;
- gone: the link is a tombstone (or the local entity was deleted here) -> recorded, skipped;
  a delete is final at the provider, so nothing may bring the entity back;
- stale: older than the newest command applied for this link -> recorded, skipped. Equal times
  apply (providers stamp whole seconds, and re-applying the same content is a no-op), except an
  object's initial event, which must be older than any change it ties with;
- no-op: the provider's state equals the local state (typically the echo of our own outbound
  write) -> no version bump, no event, so nothing goes back out;
- echo: the provider's state equals one this service itself sent out since the provider's last
  change (an earlier write's echo, overtaken by later local writes still on their way out) ->
  skipped like a no-op. Applying it would briefly revert the data and bump the version, and the
  later writes' echoes would do it again: a loop that only ends when the echoes run out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from services.crud.customers import service
from services.crud.customers.models import Customer
from services.crud.customers.schemas import CustomerCreate
from services.crud.inbound.models import InboxEntry
from services.crud.links.models import ExternalLink
from services.crud.outbox.models import OutboxEvent
from services.runtime.db import retry_transient
from shared.commands import CustomerDelete, CustomerSnapshot, CustomerUpsert
from shared.events import CustomerEvent, parse_event
from shared.kinds import Origin

# How far back in an entity's outbox history an echo is looked for.
ECHO_LOOKBACK = 100

Command = CustomerUpsert | CustomerDelete


class Outcome(StrEnum):
    APPLIED = "applied"
    NOOP = "noop"
    STALE = "stale"
    ECHO = "echo"
    GONE = "gone"
    DUPLICATE = "duplicate"


class Conflict(Exception):
    """The command names a local customer already linked to another external object."""


class Unrepresentable(Exception):
    """The provider's state breaks a local rule (e.g. a customer without an email)."""


class _Seen(Exception):
    pass


async def apply(command: Command) -> Outcome:
    """Apply ``command`` exactly once in effect; see the module docstring for the rules."""

    async def tx() -> Outcome:
        async with in_transaction() as conn:
            entry = await _record(conn, command)
            link, customer = await _resolve(conn, command)
            if isinstance(command, CustomerDelete):
                outcome = await _delete(conn, command, link, customer)
            else:
                outcome = await _upsert(conn, command, link, customer)
            entry.outcome = outcome.value
            entry.entity_id = customer.id if customer is not None else None
            await entry.save(using_db=conn, update_fields=["outcome", "entity_id"])
            return outcome

    try:
        return await retry_transient(tx)
    except _Seen:
        return Outcome.DUPLICATE


async def _record(conn: BaseDBAsyncClient, command: Command) -> InboxEntry:
    # First statement of the transaction: a concurrent delivery of the same event waits here on
    # the unique key until this one commits (then it is a duplicate) or rolls back.
    try:
        return await InboxEntry.create(
            using_db=conn,
            provider=command.provider.value,
            event_id=command.provider_event_id,
            entity=command.entity.value,
            external_id=command.external_id,
            occurred_at=command.occurred_at,
            outcome="pending",
            payload=command.model_dump_json(),
            received_at=datetime.now(UTC),
        )
    except IntegrityError:
        raise _Seen() from None


def _links(conn: BaseDBAsyncClient, command: Command, **where: Any) -> Any:
    return (
        ExternalLink.filter(provider=command.provider.value, entity=command.entity.value, **where)
        .using_db(conn)
        .select_for_update()
    )


async def _resolve(
    conn: BaseDBAsyncClient, command: Command
) -> tuple[ExternalLink | None, Customer | None]:
    """Find (and lock) the link and the local customer the command is about."""
    link: ExternalLink | None = await _links(conn, command, external_id=command.external_id).first()
    if link is not None:
        if link.entity_id is None or link.deleted:
            return link, None
        return link, await service.lock(conn, link.entity_id)
    customer: Customer | None = None
    if command.local_id is not None:
        customer = await service.lock(conn, command.local_id)
        if customer is None:
            known = await _links(conn, command, entity_id=command.local_id).first()
            if known is not None:  # it existed here and was deleted: never resurrect it
                return known, None
    email = command.data.email if isinstance(command, CustomerUpsert) else None
    if customer is None and email:
        customer = await Customer.filter(email=email).using_db(conn).select_for_update().first()
    if customer is None:
        return None, None
    link = await _links(conn, command, entity_id=customer.id).first()
    if link is not None and link.external_id not in (None, command.external_id):
        raise Conflict(
            f"local customer {customer.id} is already linked to {link.external_id}, "
            f"not {command.external_id}"
        )
    return link, customer


def _fields(snapshot: CustomerSnapshot) -> dict[str, Any]:
    try:
        valid = CustomerCreate.model_validate(snapshot.model_dump())
    except ValidationError as exc:
        bad = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise Unrepresentable(f"the provider's customer has invalid fields: {bad}") from None
    return valid.model_dump()


async def _upsert(
    conn: BaseDBAsyncClient,
    command: CustomerUpsert,
    link: ExternalLink | None,
    customer: Customer | None,
) -> Outcome:
    if link is not None and (link.deleted or (customer is None and link.entity_id is not None)):
        return Outcome.GONE
    newest = link.inbound_occurred_at if link is not None else None
    if newest is not None and (
        command.occurred_at < newest or (command.initial and command.occurred_at == newest)
    ):
        return Outcome.STALE
    fields = _fields(command.data)
    if customer is None:
        customer = await service.insert(conn, fields, Origin.STRIPE)
        outcome = Outcome.APPLIED
    elif all(getattr(customer, k) == v for k, v in fields.items()):
        outcome = Outcome.NOOP
    elif await _own_write(conn, customer, fields, command):
        outcome = Outcome.ECHO
    else:
        await service.change(conn, customer, fields, Origin.STRIPE)
        outcome = Outcome.APPLIED
    link = link or _new_link(command)
    link.entity_id = customer.id
    if outcome is not Outcome.ECHO:
        # Local state now equals the provider's: that version needs no outbound sync.
        link.synced_version = customer.version
        link.status = "synced"
    await _save_link(conn, link, command, deleted=False)
    return outcome


async def _own_write(
    conn: BaseDBAsyncClient, customer: Customer, fields: dict[str, Any], command: Command
) -> bool:
    """Whether ``fields`` is a state this service sent out since the provider's last change."""
    payloads = (
        await OutboxEvent.filter(entity=command.entity.value, entity_id=customer.id)
        .using_db(conn)
        .order_by("-id")
        .limit(ECHO_LOOKBACK)
        .values_list("payload", flat=True)
    )
    for payload in payloads:
        event = parse_event(str(payload))
        if not isinstance(event, CustomerEvent) or event.origin.value == command.provider.value:
            break  # older writes were overtaken by the provider's own change
        if {k: getattr(event.data, k) for k in fields} == fields:
            return True
    return False


async def _delete(
    conn: BaseDBAsyncClient,
    command: CustomerDelete,
    link: ExternalLink | None,
    customer: Customer | None,
) -> Outcome:
    # No staleness check: a provider deletes an object last, whatever the timestamps say.
    outcome = Outcome.GONE
    if customer is not None:
        await service.remove(conn, customer, Origin.STRIPE)
        outcome = Outcome.APPLIED
    link = link or _new_link(command)
    if customer is not None:
        link.entity_id = customer.id
    # The link stays as a tombstone, so a late create or update cannot bring the entity back.
    await _save_link(conn, link, command, deleted=True)
    return outcome


def _new_link(command: Command) -> ExternalLink:
    return ExternalLink(
        provider=command.provider.value, entity=command.entity.value, status="pending"
    )


async def _save_link(
    conn: BaseDBAsyncClient, link: ExternalLink, command: Command, deleted: bool
) -> None:
    link.external_id = command.external_id
    link.deleted = deleted
    newest = link.inbound_occurred_at
    if newest is None or command.occurred_at > newest:
        link.inbound_occurred_at = command.occurred_at
    link.updated_at = datetime.now(UTC)
    await link.save(using_db=conn)
