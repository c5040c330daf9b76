"""What every provider worker runs on: the handler of its queue (``handler``), its link table's
columns (``links``), the resource interface of one kind at one provider (``resource``), and
the ``sync.result`` reports (``results``). A provider is a package of its own
(``services/stripe_sync``, ``services/salesforce_sync``) that brings resources and a link
table; everything else is here, once."""
