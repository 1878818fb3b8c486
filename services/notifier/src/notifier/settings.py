"""Configuration of the notifier service, from ``NOTIFIER_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wishlist_shared.db.engine import default_database_url
from wishlist_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_")

    database_url: str = default_database_url("notifier")
    """PostgreSQL as the notifier role; its schema is `notifier`."""
    db_pool_size: int = 10
    """Connections kept open per process (as many again may open under load)."""
    jwks_url: str = "http://127.0.0.1:8001/api/v1/auth/jwks.json"
    """Auth's public signing keys, to check access tokens a second time (after the gateway)."""
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=0)
    """Least seconds between JWKS refetches for unknown key ids (made-up ids must not flood)."""
    jwks_max_age_seconds: float = Field(default=300.0, gt=0)
    """How long the fetched JWKS is used before it is fetched again."""
    push_poll_seconds: float = Field(default=1.0, gt=0)
    """Longest wait of the push relay for a pending push when no database wake-up arrived."""

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url}
