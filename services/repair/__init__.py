"""Composition root of the repair jobs (``twoway reconcile``, ``twoway drift report``,
``twoway repair``), like ``services.dev`` is for ``twoway dev``.

A repair job needs both sides: the provider's (its client and the deployment's budget, from
the provider's package, registered in ``providers``) and the app's (links, shadows and the
inbound path, from ``services.crud``). The services never import each other; this package
wires one of each through the interfaces of ``services.runtime.repair``.
"""
