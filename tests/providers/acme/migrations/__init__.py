"""The Acme worker's own tables' schema history."""

APP = "acme"
