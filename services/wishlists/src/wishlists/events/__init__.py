"""Wishlists' events: those it publishes (outbox) and auth's it consumes (inbox)."""
