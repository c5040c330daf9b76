"""Outbound sync status: providers' results recorded on ``ExternalLink``, shown by the API."""
