"""Auth's events: written to the outbox with the change that causes them (auth consumes none)."""
