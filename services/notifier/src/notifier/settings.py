"""Configuration of the notifier service, from ``NOTIFIER_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from wishlist_shared.db.engine import default_database_url
from wishlist_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_")

    database_url: str = default_database_url("notifier")
    """PostgreSQL as the notifier role; its schema is `notifier`."""
    db_pool_size: int = 10
    """Connections kept open per process (as many again may open under load)."""

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url}
