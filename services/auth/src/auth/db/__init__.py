"""The auth service's tables and queries, in its own schema."""
