"""The Stripe worker's own tables' schema history."""

APP = "stripe"
