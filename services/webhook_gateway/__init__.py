"""The webhook gateway: verifies providers' webhooks and hands them on as inbound commands.

It keeps no state: a delivery is answered 2xx only once the broker confirmed its commands.

Local development against Stripe's test mode, with the Stripe CLI::

    stripe listen --forward-to localhost:8001/webhooks/stripe   # prints whsec_...
    STRIPE_WEBHOOK_SECRET=whsec_... twoway webhook-gateway --port 8001
"""
