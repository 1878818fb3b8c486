"""Which service answers which public path, and which paths need no token.

The gateway routes by path prefix and never rewrites a path: each service
serves its public routes under the same ``/api/v1/...`` paths; the few paths
that gather a part from several services (``GATHERED``) are answered by the
gateway itself. The tables are plain data so that the proxy, the access
checks, the export and the merged OpenAPI document all read the same truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

API_PREFIX = "/api/v1"

# Longest-first does not matter here: no prefix is a prefix of another.
PREFIXES: tuple[tuple[str, str], ...] = (
    ("/api/v1/auth", "auth"),
    ("/api/v1/wishlists", "wishlists"),
    ("/api/v1/shared", "wishlists"),
    ("/api/v1/reservations", "wishlists"),
    ("/api/v1/notifications", "notifier"),
    ("/api/v1/link-preview", "wishlists"),
    ("/api/v1/groups", "wishlists"),
)
"""(path prefix, service): a path is routed when it is the prefix or continues it with "/"."""

PROXIED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# Not a prefix: /api/v1/me belongs to no one service. The gateway answers
# these paths itself (gateway.api.export) by asking each service named for
# the same path and putting their parts together; the merged OpenAPI
# document takes each service's part of the schema from here too.
GATHERED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/api/v1/me/export", ("auth", "wishlists", "notifier")),
)
"""(path, services): GET paths whose answer is one part from each service."""


@dataclass(frozen=True)
class PublicRoute:
    method: str
    pattern: re.Pattern[str]
    credentials: bool = False
    """True for the endpoints where a client proves who it is (login, register,
    refresh): their rejected attempts are throttled per client address."""


PUBLIC_ROUTES: tuple[PublicRoute, ...] = (
    PublicRoute("POST", re.compile(r"/api/v1/auth/(?:register|login|refresh)"), credentials=True),
    # Asking for a reset always answers 202; a spent or forged reset token is
    # a rejected attempt like a wrong password, and throttled the same way.
    PublicRoute("POST", re.compile(r"/api/v1/auth/password-reset(?:/confirm)?"), credentials=True),
    PublicRoute("GET", re.compile(r"/api/v1/auth/jwks\.json")),
    # Only the read-only view of a shared link; /join makes the caller a
    # viewer and so needs to know who the caller is.
    PublicRoute("GET", re.compile(r"/api/v1/shared/[^/]+")),
)


def service_for(path: str) -> str | None:
    """The service that serves ``path`` (decoded), or None when no service does."""
    for prefix, service in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None


def gathered_from(path: str) -> tuple[str, ...]:
    """The services whose parts make up the answer to ``path``; empty for other paths."""
    return dict(GATHERED).get(path, ())


def public_route(method: str, path: str) -> PublicRoute | None:
    """The public route that ``method`` and ``path`` (decoded) match, if any.

    Matching is on the whole path, so ``/api/v1/shared/x/join`` and
    ``/api/v1/auth/login/`` are not public.
    """
    for route in PUBLIC_ROUTES:
        if route.method == method and route.pattern.fullmatch(path):
            return route
    return None


def has_dot_segment(path: str) -> bool:
    """True for paths with "." or ".." segments, possibly percent-encoded.

    Clients normalise these away before sending; one that arrives was crafted,
    and a later hop might resolve it differently from the gateway's routing.
    """
    return any(segment in (".", "..") for segment in path.split("/"))
