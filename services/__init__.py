"""twoway's deployable services. Each imports only ``shared`` and ``services.runtime``."""
