"""Database plumbing every service shares: engines, sessions, the bootstrap of roles and schemas."""
