"""twoway's wire contract: event and command types, kinds, topology names. No I/O here."""
