"""The outbound Stripe sync worker: customer events from the broker to Stripe."""
