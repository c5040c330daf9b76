"""Applying inbound commands (a provider's changes) to the data this service owns."""
