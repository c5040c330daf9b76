"""The Stripe provider: client construction, the customer mapping and the error mapping."""
