"""Bounds on every collection, so that no single user can grow one without limit."""

from __future__ import annotations

MAX_WISHLISTS_PER_OWNER = 1000
MAX_ITEMS_PER_WISHLIST = 500
"""Also why a list's items come whole with the list instead of in pages."""
MAX_SHARES_PER_WISHLIST = 500
