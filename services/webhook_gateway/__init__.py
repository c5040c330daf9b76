"""The webhook gateway: verifies providers' webhooks and hands them on as inbound commands.

It keeps no state: a delivery is answered 2xx only once the broker confirmed its commands.
"""
