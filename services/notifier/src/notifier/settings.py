"""Configuration of the notifier service, from ``NOTIFIER_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
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
    smtp_host: str = ""
    """SMTP server that sends the platform's emails; empty: email is off (no mail is queued)."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    """Port of the SMTP server (25 or 587 with `starttls`, 465 with `tls`)."""
    smtp_username: str = ""
    """User to log in to the SMTP server as; empty: no login."""
    smtp_password: SecretStr | None = None
    """Password of `NOTIFIER_SMTP_USERNAME`."""
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    """`starttls`: upgrade a plain connection; `tls`: TLS from the start; `none`: plain."""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    """Longest wait for the SMTP server at each step of one delivery."""
    email_from: str = "Wishlists <no-reply@localhost>"
    """`From` of every email (an address the SMTP server may send as)."""
    web_url: str = "http://localhost:3000"
    """Public address of the web app, which links in emails point to."""
    email_max_attempts: int = Field(default=8, ge=1)
    """Attempts at one email before it is given up (status `failed`)."""
    email_backoff_seconds: float = Field(default=30.0, gt=0)
    """Wait before the second attempt; doubled after each failure (with jitter)."""
    email_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    """Longest wait between two attempts at one email."""
    email_poll_seconds: float = Field(default=2.0, gt=0)
    """How often the sender looks for due emails queued by another replica."""
    email_digest_interval_seconds: float = Field(default=86400.0, gt=0)
    """Length of a digest period: a user on daily delivery gets at most one digest per period."""

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    def secret_fields(self) -> dict[str, str]:
        return {"database_url": self.database_url}
