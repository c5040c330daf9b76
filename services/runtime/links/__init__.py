"""The one record of each entity at each provider (``external_links``), shared by the CRUD
service and the provider workers: whoever links an entity to an object there, every other
process sees it under the same row lock."""
