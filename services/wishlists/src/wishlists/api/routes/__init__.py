"""Wishlists' routers, one per feature; ``wishlists.api`` mounts them all.

Each router carries its full prefix: FastAPI 0.165 keeps included routers
nested, and only a route declared under its full path reports that path as
its template (the ``route`` label of the request metrics).
"""

WISHLISTS = "/api/v1/wishlists"
SHARED = "/api/v1/shared"
RESERVATIONS = "/api/v1/reservations"
LINK_PREVIEW = "/api/v1/link-preview"
GROUPS = "/api/v1/groups"
ME = "/api/v1/me"
"""The caller's data across services (``/api/v1/me/export``): each serves its own part."""
