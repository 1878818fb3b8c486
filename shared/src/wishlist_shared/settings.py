"""Settings every service shares, and the refusal to run production on dev settings.

Each service declares one ``Settings`` class that extends :class:`ServiceSettings`
(the gateway, which has no events, :class:`ProcessSettings`) with its own
environment prefix (``AUTH_``, ``WISHLISTS_``, ...), so every value
comes from the environment and has a default that works on a developer's machine.
"""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_MARKER = "dev-insecure"  # noqa: S105 - the marker, not a secret
"""Every development default secret contains this, so production can spot one."""


class InsecureProductionSettingsError(ValueError):
    """Raised when production mode is asked to run with development secrets or settings."""


class ProcessSettings(BaseSettings):
    """What every process of the platform is configured with, the gateway included."""

    # Each field's docstring is its documentation: the configuration reference
    # (.env.example, the README's table) is generated from it.
    model_config = SettingsConfigDict(use_attribute_docstrings=True)

    environment: Literal["development", "production"] = "development"
    """`production` refuses development secrets, RabbitMQ's guest and tests-only settings."""
    log_level: str = "INFO"
    """Lowest level of log lines written."""
    log_json: bool = True
    """Write logs as JSON lines (false: plain text, easier to read by eye)."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis for rate limits, revoked tokens and real-time fan-out."""
    redis_prefix: str = "wl:"
    """Prefix of every Redis key; services that share keys must share it."""
    redis_max_connections: int = Field(default=100, ge=1)
    """Most Redis connections this process opens; past that, a command waits up to 2 s for one."""
    jwt_issuer: str = "wishlist-auth"
    """`iss` of access tokens: auth writes it, everyone else demands it."""
    jwt_audience: str = "wishlist"
    """`aud` of access tokens."""
    max_requests_in_flight: int = Field(default=100, ge=0)
    """Requests served at once; past it, 503 and `Retry-After` at once (0: off; never health)."""
    shutdown_drain_seconds: float = Field(default=5.0, ge=0)
    """After SIGTERM, serve this long (`/readyz` 503, `Connection: close`), then shut down."""
    otel_exporter_otlp_endpoint: str = ""
    """Collector to send traces to over OTLP/HTTP (`http://collector:4318`); empty: tracing off."""

    def secret_fields(self) -> dict[str, str]:
        """Values that must not keep their development default in production."""
        return {}

    def production_refusals(self) -> list[str]:
        """Why this configuration must not run in production; empty when it may."""
        insecure = sorted(
            name for name, value in self.secret_fields().items() if DEV_SECRET_MARKER in value
        )
        if not insecure:
            return []
        return ["production mode refuses development secrets; set: " + ", ".join(insecure)]

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Self:
        if self.environment == "production" and (refusals := self.production_refusals()):
            raise InsecureProductionSettingsError("; ".join(refusals))
        return self


class ServiceSettings(ProcessSettings):
    """A service's settings: every process's, and its events on RabbitMQ."""

    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    """RabbitMQ to publish events to and consume them from."""
    events_exchange: str = "wishlist.events"
    """Topic exchange that carries every event of the platform."""
    queue_prefix: str = ""
    """Prefix of this service's queue names; tests set a unique one per test."""
    queue_expiry_seconds: int = 0
    """Drop this service's queues after this long unused; 0 keeps them (production)."""
    unrouted_max_messages: int = 100_000
    """Events kept that no queue was bound for yet; beyond it the oldest go first."""
    unrouted_max_age_seconds: int = 7 * 24 * 3600
    """How long an event no queue was bound for is kept, for a consumer deployed late."""

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        # RabbitMQ's built-in account has a published password; a broker that
        # still takes it is open to anyone who can reach it.
        user = urlsplit(self.rabbitmq_url).username
        if user is not None and unquote(user) == "guest":
            refusals.append(
                "production mode refuses RabbitMQ's guest account; set rabbitmq_url"
                " to a user of the platform's own"
            )
        return refusals
