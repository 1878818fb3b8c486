"""The routing table: which service serves a path, and which routes are public."""

from __future__ import annotations

import pytest

from gateway.api.routing import has_dot_segment, public_route, service_for


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/auth/login", "auth"),
        ("/api/v1/auth", "auth"),
        ("/api/v1/wishlists", "wishlists"),
        ("/api/v1/wishlists/1/items/2/reservations/mine", "wishlists"),
        ("/api/v1/shared/tok", "wishlists"),
        ("/api/v1/reservations", "wishlists"),
        ("/api/v1/reservations/9", "wishlists"),
        ("/api/v1/notifications/unread-count", "notifier"),
        ("/api/v1/groups", "wishlists"),
        ("/api/v1/groups/1/members/me", "wishlists"),
        ("/api/v1/groupsx", None),
        ("/api/v1/wishlistsx", None),
        ("/api/v1/authority", None),
        ("/api/v1/openapi.json", None),
        ("/api/v2/wishlists", None),
        ("/healthz", None),
    ],
)
def test_service_for(path: str, service: str | None) -> None:
    assert service_for(path) == service


@pytest.mark.parametrize(
    ("method", "path", "credentials"),
    [
        ("POST", "/api/v1/auth/register", True),
        ("POST", "/api/v1/auth/login", True),
        ("POST", "/api/v1/auth/refresh", True),
        ("POST", "/api/v1/auth/password-reset", True),
        ("POST", "/api/v1/auth/password-reset/confirm", True),
        ("GET", "/api/v1/auth/jwks.json", False),
        ("GET", "/api/v1/shared/abc-DEF_123", False),
    ],
)
def test_public_routes(method: str, path: str, credentials: bool) -> None:
    route = public_route(method, path)
    assert route is not None
    assert route.credentials is credentials


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/loginx"),
        ("GET", "/api/v1/auth/password-reset"),
        ("POST", "/api/v1/auth/password-reset/"),
        ("POST", "/api/v1/auth/password-reset/confirmx"),
        ("GET", "/api/v1/auth/jwksXjson"),
        ("GET", "/api/v1/shared/"),
        ("GET", "/api/v1/shared/tok/join"),
        ("POST", "/api/v1/shared/tok/join"),
        ("HEAD", "/api/v1/shared/tok"),
        ("GET", "/api/v1/shared/tok/"),
    ],
)
def test_everything_else_is_not_public(method: str, path: str) -> None:
    assert public_route(method, path) is None


def test_dot_segments_are_spotted() -> None:
    assert has_dot_segment("/api/v1/shared/../wishlists")
    assert has_dot_segment("/api/v1/./wishlists")
    assert not has_dot_segment("/api/v1/shared/a..b")
    assert not has_dot_segment("/api/v1/auth/jwks.json")
