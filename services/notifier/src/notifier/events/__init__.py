"""The notifier's events: those it consumes (inbox) and the pushes it relays to Redis (outbox)."""
