"""What every twoway service runs on: settings, database, message bus, logging."""
