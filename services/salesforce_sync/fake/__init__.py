"""A FAKE Salesforce org, for tests and ``twoway dev``: not Salesforce, and not a model of it.

No local Salesforce server exists, so this small Starlette app answers the few calls twoway
makes in the request and response shapes Salesforce documents, on Contacts only:

- OAuth 2.0 client credentials (``POST /services/oauth2/token``; one fixed client per fake);
- the sObject REST routes for Contact: create, get, update, delete, and upsert / get by the
  External ID field, with Salesforce's validation error codes and ``Sforce-Limit-Info``;
- the SOQL subset of the repair jobs (``query``, ``queryAll`` with ``IsDeleted``, paging by
  ``nextRecordsUrl``) and getDeleted (``sobjects/Contact/deleted/``);
- Outbound Messages (SOAP 1.1) for every created or updated Contact, retried until
  ``<Ack>true</Ack>``, batched up to 100 notifications;
- ``/_fake/...`` control routes (fake only): a human user's edits, fault injection, usage,
  the request log, token expiry, holding and settling the outbound queue.

What it does NOT emulate: other sObjects, SOQL beyond that subset (functions, relationships,
semi-joins, ``OFFSET``), composite and sObject Collections,
Change Data Capture, the JWT and username-password flows, token lifetimes (tokens live until
``/_fake/tokens/expire``), the recycle bin's undelete and 15-day purge, sharing and field-level
security, duplicate and validation rules, triggers, the rolling-24-hour window of the API
allocation (usage only grows until set or reset), the long-request limit, API version
differences, and Outbound Messages' 24-hour retry horizon and 2-hour backoff (here 0.1 s
doubling to 1 s). Dates are ISO 8601 with milliseconds and ``Z`` everywhere (the real REST API
writes ``+0000``).
"""

from __future__ import annotations
