"""Wishlists service: lists, items, shares and secret reservations."""
