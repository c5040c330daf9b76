"""The CRUD service: owns the application's data, its outbox and the inbound side of sync."""
