"""The state of the Acme test service: its contacts and its change log, in memory.

Contact ids are ``ct_`` and a zero-padded number, so their text order is their creation order
(the list endpoint pages by id). Every change (by the API token's user or by a person) gets the
next sequence number in the change log, unless it is a drift (behind everyone's back). Entries
older than the retention are dropped when the log is read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

FIELDS = ("name", "email", "phone")
ChangeType = Literal["upsert", "delete"]


class Invalid(ValueError):
    """A contact the service refuses (422)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@dataclass
class Contact:
    id: str
    twoway_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    updated_ms: int
    changed_by: str
    deleted: bool = False

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "contact",
            "twoway_id": self.twoway_id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "updated_at": iso_ms(self.updated_ms),
            "changed_by": self.changed_by,
            "deleted": self.deleted,
        }


@dataclass(frozen=True)
class Change:
    seq: int
    at_ms: int
    type: ChangeType
    object: dict[str, Any]

    def entry(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "cursor": str(self.seq),
            "time": iso_ms(self.at_ms),
            "type": self.type,
            "object": self.object,
        }


def _checked(values: dict[str, Any]) -> dict[str, str | None]:
    unknown = set(values) - {*FIELDS, "twoway_id"}
    if unknown:
        raise Invalid(f"unknown fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise Invalid(f"{name} must be text of at most 200 characters")
    email = values.get("email")
    if email is not None and "@" not in email:
        raise Invalid("email is not an email address")
    return dict(values)


@dataclass
class Store:
    retention_s: float = 7 * 86_400.0
    contacts: dict[str, Contact] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    api_writes: int = 0
    _next_id: int = 0
    _next_seq: int = 0
    _last_ms: int = 0

    def _stamp(self) -> int:
        # Strictly increasing, so two changes of one object never share an ``updated_at``.
        self._last_ms = max(now_ms(), self._last_ms + 1)
        return self._last_ms

    def _log(self, kind: ChangeType, contact: Contact) -> Change:
        self._next_seq += 1
        change = Change(self._next_seq, contact.updated_ms, kind, contact.snapshot())
        self.changes.append(change)
        return change

    def live(self, contact_id: str) -> Contact | None:
        found = self.contacts.get(contact_id)
        return None if found is None or found.deleted else found

    def by_twoway_id(self, twoway_id: str) -> Contact | None:
        return next(
            (c for c in self.contacts.values() if c.twoway_id == twoway_id and not c.deleted),
            None,
        )

    def create(self, values: dict[str, Any], by: str) -> tuple[Contact, Change]:
        fields = _checked(values)
        self._next_id += 1
        contact = Contact(
            id=f"ct_{self._next_id:08d}",
            twoway_id=fields.get("twoway_id"),
            name=fields.get("name"),
            email=fields.get("email"),
            phone=fields.get("phone"),
            updated_ms=self._stamp(),
            changed_by=by,
        )
        self.contacts[contact.id] = contact
        return contact, self._log("upsert", contact)

    def edit(
        self, contact: Contact, values: dict[str, Any], by: str, *, log: bool = True
    ) -> Change | None:
        """Set ``values``; ``log=False``: a drift, which no change-log entry tells of."""
        for name, value in _checked(values).items():
            setattr(contact, name, value)
        contact.updated_ms = self._stamp()
        contact.changed_by = by
        return self._log("upsert", contact) if log else None

    def delete(self, contact: Contact, by: str) -> Change:
        contact.deleted = True
        contact.updated_ms = self._stamp()
        contact.changed_by = by
        return self._log("delete", contact)

    def page(self, after: str | None, limit: int) -> tuple[list[Contact], str | None]:
        ids = sorted(
            i for i, c in self.contacts.items() if not c.deleted and (after is None or i > after)
        )
        chosen = ids[:limit]
        more = len(ids) > limit
        return [self.contacts[i] for i in chosen], (chosen[-1] if more else None)

    def expire(self) -> None:
        cutoff = now_ms() - int(self.retention_s * 1000)
        self.changes = [c for c in self.changes if c.at_ms >= cutoff]

    def changes_after(self, after: int, limit: int) -> list[Change] | None:
        """The changes after ``after``, oldest first; None when some of them were dropped."""
        self.expire()
        first = self.changes[0].seq if self.changes else self._next_seq + 1
        if after + 1 < first:
            return None
        found = [c for c in self.changes if c.seq > after]
        return found[:limit]

    def trim(self, through: int) -> None:
        """Drop the change log's entries up to ``through`` (a retention reached early)."""
        self.changes = [c for c in self.changes if c.seq > through]
