"""The customer slice: model, request schemas, service and HTTP routes."""
