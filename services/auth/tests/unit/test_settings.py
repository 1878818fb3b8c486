"""Settings: working development defaults, and production's refusal of them."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from auth.settings import Settings
from wishlist_shared.settings import DEV_SECRET_MARKER

PRODUCTION_URL = "postgresql+asyncpg://auth_svc:Zq8-not-a-default@db:5432/wishlist"
PRODUCTION_BROKER = "amqp://wishlist:Vb3-not-a-default@rabbitmq:5672/"


def test_development_defaults_work_without_any_environment() -> None:
    settings = Settings()
    assert settings.access_token_ttl_seconds == 900
    assert settings.refresh_token_ttl_seconds == 30 * 24 * 3600
    assert settings.password_reset_ttl_seconds == 30 * 60
    assert settings.password_reset_requests_per_email == 3
    assert settings.password_reset_window_seconds == 3600
    assert DEV_SECRET_MARKER in settings.secret_key


def test_production_refuses_the_development_secrets() -> None:
    with pytest.raises(ValidationError, match="database_url, secret_key"):
        Settings(environment="production")


def test_production_refuses_a_development_secret_key_even_with_a_real_database() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(environment="production", database_url=PRODUCTION_URL)


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        database_url=PRODUCTION_URL,
        secret_key="k" * 48,
        rabbitmq_url=PRODUCTION_BROKER,
    )
    assert settings.environment == "production"


def test_trusted_proxies_read_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_TRUSTED_PROXIES", "10.1.2.3/8, 192.0.2.1")
    assert Settings().trusted_proxies == [ip_network("10.0.0.0/8"), ip_network("192.0.2.1/32")]
