"""The wishlists service's tables and queries, in its own schema."""
