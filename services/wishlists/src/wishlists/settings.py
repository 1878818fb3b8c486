"""Configuration of the wishlists service, from ``WISHLISTS_*`` environment variables."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from wishlist_shared.db.engine import default_database_url
from wishlist_shared.settings import ServiceSettings
from wishlists.previews.guard import SocketAddress, socket_address


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WISHLISTS_")

    database_url: str = default_database_url("wishlists")
    """PostgreSQL as the wishlists role; its schema is `wishlists`."""
    db_pool_size: int = 10
    """Connections kept open per process (as many again may open under load)."""
    jwks_url: str = "http://127.0.0.1:8001/api/v1/auth/jwks.json"
    """Auth's public signing keys, to check access tokens a second time (after the gateway)."""
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=0)
    """Least seconds between JWKS refetches for unknown key ids (made-up ids must not flood)."""
    jwks_max_age_seconds: float = Field(default=300.0, gt=0)
    """How long the fetched JWKS is used before it is fetched again."""
    share_link_base_url: str = "http://127.0.0.1:3000/shared/"
    """Start of a share link's `url`: the web app's page for a shared list; the token follows."""

    link_preview_timeout_seconds: float = Field(default=5.0, gt=0)
    """Longest a link preview may take to fetch a page, redirects included; then 502."""
    link_preview_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest page a link preview reads (after decompression); a larger one is a 502."""
    link_preview_max_redirects: int = Field(default=5, ge=0)
    """Redirects a link preview follows (each checked like the link itself)."""
    link_preview_cache_seconds: int = Field(default=3600, ge=0)
    """Seconds a link's preview is reused for everyone (Redis); 0: never. Failures never are."""
    link_preview_rate_limit: int = Field(default=30, ge=1)
    """Link previews one user may ask for per window (cached ones count too); then 429."""
    link_preview_rate_window_seconds: int = Field(default=60, ge=1)
    """Length of the link-preview counting window."""
    link_preview_test_allowed_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list
    )
    """TESTS ONLY: `ip:port`s (comma-separated) link previews may fetch though not public."""

    @field_validator("link_preview_test_allowed_addresses", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("link_preview_test_allowed_addresses")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        # A typo must stop the service, not silently allow nothing (or something else).
        return [str(socket_address(v)) for v in value]

    def link_preview_exceptions(self) -> frozenset[SocketAddress]:
        return frozenset(socket_address(v) for v in self.link_preview_test_allowed_addresses)

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url}

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        if self.link_preview_test_allowed_addresses:
            # The allowlist opens the SSRF guard to private addresses: tests only.
            refusals.append(
                "production mode refuses link_preview_test_allowed_addresses (tests only)"
            )
        return refusals
