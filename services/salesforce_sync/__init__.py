"""The outbound Salesforce sync worker: entity events from the broker to Salesforce.

Run it with ``twoway salesforce-sync`` (as many processes as you like; they share one queue,
``twoway.salesforce_sync``, which receives every entity event: fan-out). Customers are mirrored
as Contacts (``salesforce/contacts.py``); other kinds are not synced to Salesforce.

Layout: ``settings``, ``models`` (the worker's own link table ``salesforce_links``), ``main``,
and the provider package ``salesforce/`` (client with OAuth and the daily budget, errors,
Contacts). The handler itself is the provider-neutral ``services.runtime.outbound``.
"""
