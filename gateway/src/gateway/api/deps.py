"""What the gateway's routes depend on, built once per app and declared once here."""

# Dependencies are ``async def`` even when they await nothing: FastAPI runs a
# plain ``def`` in a worker thread, a thread hop on every request.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from redis.asyncio import Redis

from gateway.api.access import RateLimits
from gateway.api.checkpoint import Checkpoint
from gateway.api.openapi import OpenAPIDocument
from gateway.api.proxy import Upstream
from gateway.realtime.hub import Hub
from gateway.realtime.tickets import Tickets
from gateway.settings import IPNetwork, Settings
from wishlist_shared.jwt import JWKSClient
from wishlist_shared.security import TokenChecker


@dataclass
class Gateway:
    settings: Settings
    redis: Redis
    upstreams: Mapping[str, Upstream]
    control: httpx.AsyncClient
    """For the gateway's own calls (JWKS, OpenAPI documents), apart from client traffic."""
    jwks: JWKSClient
    tokens: TokenChecker
    limits: RateLimits
    checkpoint: Checkpoint
    """Revocation and rate limit of a verified token, in one round trip."""
    openapi: OpenAPIDocument
    tickets: Tickets
    hub: Hub

    @property
    def trusted_proxies(self) -> Sequence[IPNetwork]:
        return self.settings.trusted_proxies

    async def aclose(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.client.aclose()
            await upstream.pool.aclose()
        await self.control.aclose()
        await self.redis.aclose()


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
