"""What every provider worker runs on: the handler of its queue (``handler``), linking to an
existing object instead of creating one (``adoption``), the resource interface of one kind at
one provider (``resource``), and the ``sync.result`` reports (``results``). A provider is a
package of its own (``services/stripe_sync``, ``services/salesforce_sync``) that brings its
resources; the link row is the shared ``external_links`` (``services.runtime.links``)."""

# The tables a worker reads: the link rows, and the reconcile runs (an adoption under way).
WORKER_MODELS = ("services.runtime.links.models", "services.runtime.repair.models")
