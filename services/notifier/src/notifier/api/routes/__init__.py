"""The notifier's routers, one module per resource."""

ME = "/api/v1/me"
"""The caller's data across services (``/api/v1/me/export``): each serves its own part."""
