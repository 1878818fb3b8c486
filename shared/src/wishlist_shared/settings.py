"""Settings every service shares, and the refusal to run production on dev secrets.

Each service declares one ``Settings`` class that extends :class:`ServiceSettings`
with its own environment prefix (``AUTH_``, ``WISHLISTS_``, ...), so every value
comes from the environment and has a default that works on a developer's machine.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings

DEV_SECRET_MARKER = "dev-insecure"  # noqa: S105 - the marker, not a secret
"""Every development default secret contains this, so production can spot one."""


class InsecureProductionSettingsError(ValueError):
    """Raised when production mode is asked to run with development secrets."""


class ServiceSettings(BaseSettings):
    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    log_json: bool = True
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = "wishlist.events"
    # Queue names are "<queue_prefix><service>.<purpose>"; tests set a unique
    # prefix so that parallel runs never consume each other's messages.
    queue_prefix: str = ""
    # 0 keeps queues forever (production). Ephemeral environments (tests,
    # previews) set it so their uniquely named queues go once unused.
    queue_expiry_seconds: int = 0
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis key of the platform starts with this, shared by the services
    # that read each other's keys (the revocation list, for one).
    redis_prefix: str = "wl:"
    jwt_issuer: str = "wishlist-auth"
    jwt_audience: str = "wishlist"

    def secret_fields(self) -> dict[str, str]:
        """Values that must not keep their development default in production."""
        return {}

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Self:
        if self.environment != "production":
            return self
        insecure = sorted(
            name for name, value in self.secret_fields().items() if DEV_SECRET_MARKER in value
        )
        if insecure:
            raise InsecureProductionSettingsError(
                "production mode refuses development secrets; set: " + ", ".join(insecure)
            )
        return self
