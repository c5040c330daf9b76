"""Repair jobs: what webhooks alone cannot do, for any provider and entity kind.

- ``reconcile``: adopt what already exists. Every object at the provider is linked to a local
  entity (by its twoway id, else by the kind's match keys, e.g. a customer's email), or imported;
  local entities no provider object claims are pushed. Resumable from a checkpoint.
- ``catchup``: the provider's event log read back since the last event seen, handed to the
  inbound consumer like a webhook, so one that never arrived is applied late, not never.
- ``audit``: the provider's objects compared with the local ones, a page at a time, slowly and
  forever; a difference is repaired through the inbound merge, whose rules decide the winner.

The provider side plugs in as an ``ObjectSource`` (paging through objects) and an
``EventSource`` (paging through events), the app's side as a ``LocalTarget`` (``source`` and
``target``). Neither knows the other: ``services.repair`` wires them together.
"""
