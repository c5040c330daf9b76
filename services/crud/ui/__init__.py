"""The browser interface under ``/ui/``: server-rendered pages over the same service."""
