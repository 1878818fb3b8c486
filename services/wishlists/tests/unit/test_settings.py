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
