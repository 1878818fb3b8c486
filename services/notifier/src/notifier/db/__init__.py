"""The notifier service's tables and queries, in its own schema."""
