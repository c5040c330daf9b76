"""``twoway dev``: every role in one process, with embedded defaults for a first look."""
