"""Configuration of the gateway, from ``GATEWAY_*`` environment variables.

Every value has a default that works on a developer's machine (the services on
their dev ports, Redis on localhost). Lists (``GATEWAY_TRUSTED_PROXIES``,
``GATEWAY_CORS_ORIGINS``) take either a JSON array or comma-separated values.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from wishlist_shared.settings import ProcessSettings

JWKS_PATH = "/api/v1/auth/jwks.json"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    auth_url: str = "http://127.0.0.1:8001"
    """Base URL of the auth service; `/api/v1/auth/*` goes there."""
    wishlists_url: str = "http://127.0.0.1:8002"
    """Base URL of the wishlists service (lists, shared links, reservations)."""
    notifier_url: str = "http://127.0.0.1:8003"
    """Base URL of the notifier service; `/api/v1/notifications*` goes there."""
    jwks_url: str = ""
    """Where the public signing keys are; empty: `<auth_url>/api/v1/auth/jwks.json`."""
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=0)
    """Least seconds between JWKS refetches for unknown key ids (made-up ids must not flood)."""
    jwks_max_age_seconds: float = Field(default=300.0, gt=0)
    """How long the fetched JWKS is used before it is fetched again."""

    upstream_connect_timeout: float = Field(default=2.0, gt=0)
    """Seconds to connect to a service before answering 503."""
    upstream_read_timeout: float = Field(default=30.0, gt=0)
    """Seconds a service may stay silent (before its answer, or within its body); then 504."""
    upstream_write_timeout: float = Field(default=30.0, gt=0)
    """Seconds a service may take to accept more of a request body; then 504."""
    upstream_pool_timeout: float = Field(default=2.0, gt=0)
    """Seconds to wait for a free connection when a service's pool is full; then 503."""
    upstream_max_connections: int = Field(default=100, ge=1)
    """Open connections per service per gateway process, at most."""
    upstream_max_keepalive: int = Field(default=20, ge=0)
    """Idle connections kept open per service for the next requests."""
    # Below uvicorn's 5 s keep-alive timeout on the services, so the gateway
    # drops an idle connection before the service does and never sends a
    # request into a connection that the service is closing.
    upstream_keepalive_expiry: float = Field(default=4.0, ge=0)
    """Seconds an idle connection to a service is kept; below the services' keep-alive (5 s)."""

    rate_limit_requests: int = Field(default=300, ge=1)
    """Requests per window per client: per user with a valid token, per address otherwise."""
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    """Length of the request-counting window."""
    auth_failure_limit: int = Field(default=50, ge=1)
    """Rejected login/register/refresh/reset attempts (400/401/409) per client address; then 429."""
    auth_failure_window_seconds: int = Field(default=900, ge=1)
    """Length of the rejected-attempt counting window."""

    # Run uvicorn with --no-proxy-headers: otherwise it rewrites the peer
    # address from X-Forwarded-For (trusting its own FORWARDED_ALLOW_IPS)
    # before the gateway can apply this list.
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=lambda: [
            ipaddress.ip_network("127.0.0.1/32"),
            ipaddress.ip_network("::1/128"),
        ]
    )
    """Networks (comma-separated) whose `X-Forwarded-For`/`-Proto` are believed: nginx's."""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins (comma-separated, no `*`) that may call the API, cookies included."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    """Largest request body passed to a service (413 beyond); bodies are small JSON documents."""

    openapi_cache_seconds: float = Field(default=60.0, ge=0)
    """How long a service's OpenAPI document is reused in the merged one."""
    openapi_fetch_timeout: float = Field(default=2.0, gt=0)
    """Seconds to wait for a service's OpenAPI document; a slow one is left out."""
    redis_timeout_seconds: float = Field(default=1.0, gt=0)
    """Seconds to wait for Redis; a stalled Redis must fail requests fast, not hang them."""

    ws_send_queue_size: int = Field(default=256, ge=1)
    """Notifications waiting for one slow WebSocket; beyond, it is closed with 4008 (resume)."""
    ws_redis_heartbeat_seconds: float = Field(default=5.0, gt=0)
    """Seconds of pub/sub silence before the relay PINGs Redis; as long again unanswered: lost."""
    ws_max_sockets_per_user: int = Field(default=20, ge=1)
    """WebSockets one user may hold open on one gateway process; one more closes with 4429."""

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        # CORS is answered with credentials allowed (auth's refresh cookie):
        # a wildcard would let every website act with the user's cookie.
        if "*" in value:
            raise ValueError('"*" is not allowed: name each browser origin')
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        value = _split(value)
        if isinstance(value, list):
            # Not strict: "10.0.0.1/8" means the network 10.0.0.0/8.
            return [
                ipaddress.ip_network(v, strict=False) if isinstance(v, str) else v for v in value
            ]
        return value

    @model_validator(mode="after")
    def _default_jwks_url(self) -> Self:
        if not self.jwks_url:
            self.jwks_url = self.auth_url.rstrip("/") + JWKS_PATH
        return self

    def upstream_urls(self) -> dict[str, str]:
        """Base URL of each service the gateway routes to, by service name."""
        return {
            "auth": self.auth_url.rstrip("/"),
            "wishlists": self.wishlists_url.rstrip("/"),
            "notifier": self.notifier_url.rstrip("/"),
        }


def _split(value: Any) -> Any:
    """A JSON array or comma-separated values from the environment, as a list."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list):
            raise ValueError("expected a JSON array")
        return parsed
    return [part.strip() for part in text.split(",") if part.strip()]
