"""Configuration of the auth service, from ``AUTH_*`` environment variables."""

from __future__ import annotations

import json
from ipaddress import ip_network
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from wishlist_shared.db.engine import default_database_url
from wishlist_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_")

    database_url: str = default_database_url("auth")
    """PostgreSQL as the auth role; its schema is `auth`."""
    db_pool_size: int = 10
    """Connections kept open per process (as many again may open under load)."""
    secret_key: str = Field(default="dev-insecure-auth-key-encryption-secret", min_length=16)
    """Encrypts the private signing keys at rest; a long random value, the same on every replica."""
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    """Lifetime of an access token (and how long a retired signing key keeps verifying)."""
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    """Lifetime of each refresh token; every refresh issues a new one with a full lifetime."""
    refresh_cookie_secure: bool = True
    """Mark the refresh-token cookie `Secure` (browsers accept that from http://localhost too)."""
    login_failures_per_account: int = Field(default=5, ge=1)
    """Failed logins for one email in a window before further attempts get 429."""
    login_failures_per_address: int = Field(default=30, ge=1)
    """Failed logins from one client address (an IPv6 /64) in a window before 429."""
    login_failure_window_seconds: int = Field(default=900, ge=1)
    """Length of the failed-login counting window."""
    password_reset_ttl_seconds: int = Field(default=1800, ge=1)
    """How long a password-reset token (the link in the email) stays usable."""
    password_reset_requests_per_email: int = Field(default=3, ge=1)
    """Reset requests for one address in a window that send an email; more answer 202 silently."""
    password_reset_window_seconds: int = Field(default=3600, ge=1)
    """Length of the reset-request counting window."""
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.1/32"), ip_network("::1/128")]
    )
    """Networks (comma-separated) whose `X-Forwarded-For` is believed: the gateway's."""
    password_hash_concurrency: int = Field(default=4, ge=1)
    """Password hashes computed at once per process; each takes 64 MiB and a CPU for ~0.1 s."""
    key_cache_seconds: float = Field(default=60.0, gt=0)
    """How long a replica trusts its in-memory copy of the public signing keys."""
    session_prune_interval_seconds: float = Field(default=600.0, gt=0)
    """Seconds between deletions of expired sessions (done in the background, not at login)."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        # Read like the gateway's: a JSON array or comma-separated values,
        # and "10.0.0.1/8" means the network 10.0.0.0/8.
        if isinstance(value, str):
            text = value.strip()
            value = (
                json.loads(text)
                if text.startswith("[")
                else [part.strip() for part in text.split(",") if part.strip()]
            )
        if isinstance(value, list):
            return [ip_network(v, strict=False) if isinstance(v, str) else v for v in value]
        return value

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url, "secret_key": self.secret_key}
