"""The transactional outbox: rows written with each change, relayed to the broker."""
