"""Salesforce's side of the repair jobs: Contacts listed with SOQL (``objects``) and the
changes since a ``SystemModstamp`` read back with ``queryAll`` (``changes``), deletes included.

Every request goes through the client in the budget's bulk lane: live sync goes first."""
