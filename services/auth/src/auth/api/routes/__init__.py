"""Auth's routers, one per feature; ``auth.api`` mounts them all.

Each router carries the full prefix itself: FastAPI 0.165 keeps included
routers nested, and only a route declared under its full path reports that
path as its template (the ``route`` label of the request metrics).
"""

PREFIX = "/api/v1/auth"
ME = "/api/v1/me"
"""The caller's data across services (``/api/v1/me/export``): each serves its own part."""
