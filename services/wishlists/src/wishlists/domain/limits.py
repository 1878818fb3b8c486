"""Bounds on every collection, so that no single user can grow one without limit."""

from __future__ import annotations

MAX_WISHLISTS_PER_OWNER = 1000
MAX_ITEMS_PER_WISHLIST = 500
"""Also why a list's items come whole with the list instead of in pages."""
MAX_SHARES_PER_WISHLIST = 500
"""Direct shares (by email and by link); the access groups give is bounded by the next three."""
MAX_GROUPS_PER_OWNER = 50
MAX_MEMBERS_PER_GROUP = 100
"""Pending invitations included; the owner is one of them."""
MAX_GROUPS_PER_WISHLIST = 20
MAX_IMPORT_BYTES = 1024 * 1024
"""Largest body ``POST /api/v1/wishlists/import`` reads; a full list of items fits many times."""
MAX_IMPORT_ERRORS = 50
"""Field errors told at most in one answer to an import: enough to fix a file, not a flood."""
MAX_IMPORT_DEPTH = 16
"""Deepest nesting of arrays and objects an import's JSON may have; an export needs 5."""
MAX_ITEMS_PER_IMPORT = 2000
"""Items one import creates at most, over all its lists, so it finishes well within a request."""
