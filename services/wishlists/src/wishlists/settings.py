"""Configuration of the wishlists service, from ``WISHLISTS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wishlist_shared.db.engine import default_database_url
from wishlist_shared.settings import ServiceSettings


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

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url}
