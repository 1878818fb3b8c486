"""Settings: working development defaults, and production's refusal of them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wishlists.settings import Settings


def test_development_defaults_work_without_any_environment() -> None:
    settings = Settings()
    assert settings.jwks_url.endswith("/api/v1/auth/jwks.json")
    assert settings.share_link_base_url.endswith("/")


def test_production_refuses_the_development_database_password() -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(environment="production")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WISHLISTS_SHARE_LINK_BASE_URL", "https://wishes.example/s/")
    assert Settings().share_link_base_url == "https://wishes.example/s/"


def test_link_previews_allow_no_private_address_unless_told() -> None:
    assert Settings().link_preview_exceptions() == frozenset()


def test_the_test_allowlist_takes_exact_socket_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "WISHLISTS_LINK_PREVIEW_TEST_ALLOWED_ADDRESSES", "127.0.0.1:8080, [::1]:9090"
    )
    settings = Settings()
    assert settings.link_preview_test_allowed_addresses == ["127.0.0.1:8080", "[::1]:9090"]
    assert {str(a) for a in settings.link_preview_exceptions()} == {"127.0.0.1:8080", "[::1]:9090"}


@pytest.mark.parametrize("value", ["localhost:8080", "127.0.0.1", "10.0.0.0/8"])
def test_a_mistyped_allowlist_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WISHLISTS_LINK_PREVIEW_TEST_ALLOWED_ADDRESSES", value)
    with pytest.raises(ValidationError, match="link_preview_test_allowed_addresses"):
        Settings()
