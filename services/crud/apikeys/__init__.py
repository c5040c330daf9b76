"""API keys: who may call the CRUD API, and with which scope."""
