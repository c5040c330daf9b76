"""The product slice: model, request and response schemas, and its registration (``slice``)."""
