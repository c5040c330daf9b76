"""The customer slice: model, request and response schemas, and its registration (``slice``)."""
