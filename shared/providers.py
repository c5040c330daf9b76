"""Which entity kinds each provider syncs: one line per provider.

A provider's worker acks the events of other kinds and does nothing; the API shows a sync
block only for the providers that sync the entity's kind.
"""

from __future__ import annotations

from shared.kinds import EntityKind, Provider
from shared.registry import Registry

PROVIDER_KINDS: Registry[Provider, frozenset[EntityKind]] = Registry("provider kinds")
PROVIDER_KINDS.register(Provider.STRIPE, frozenset({EntityKind.CUSTOMER, EntityKind.PRODUCT}))
PROVIDER_KINDS.register(Provider.SALESFORCE, frozenset({EntityKind.CUSTOMER}))


def providers_of(kind: EntityKind) -> tuple[Provider, ...]:
    """The providers that sync ``kind``, in a stable order."""
    return tuple(p for p in Provider if p in PROVIDER_KINDS and kind in PROVIDER_KINDS[p])
