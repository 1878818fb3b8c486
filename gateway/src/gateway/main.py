"""The gateway's application: ``uvicorn --factory gateway.main:create_app``.

Holds no state of its own: the JWKS comes from auth, rate-limit counters and
the revocation list live in Redis, so any number of replicas can run side by
side. Readiness means Redis answers and the JWKS can be fetched; the services
behind it are not part of it, so one service being down never takes the
gateway (and with it every other service) out of rotation.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, cast

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.api import openapi, routing
from gateway.api.access import RateLimits
from gateway.api.checkpoint import Checkpoint
from gateway.api.deps import Gateway
from gateway.api.proxy import Upstream, forwarding_pool
from gateway.api.router import router
from gateway.realtime import sockets
from gateway.realtime.hub import Hub
from gateway.realtime.tickets import Tickets
from gateway.settings import Settings
from wishlist_shared import redis_pool, tracing
from wishlist_shared.correlation import HEADER as REQUEST_ID_HEADER
from wishlist_shared.correlation import CorrelationMiddleware
from wishlist_shared.jwt import JWKSClient, TokenVerifier, VerifiedTokens
from wishlist_shared.revocation import RevocationList
from wishlist_shared.security import VERIFIED_TOKENS, TokenChecker
from wishlist_shared.service import create_service_app

SERVICE = "gateway"


def _http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=settings.upstream_connect_timeout,
            read=settings.upstream_read_timeout,
            write=settings.upstream_write_timeout,
            pool=settings.upstream_pool_timeout,
        ),
        limits=httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_keepalive,
            keepalive_expiry=settings.upstream_keepalive_expiry,
        ),
        # Services are reached directly, never through an HTTP_PROXY from the
        # environment; and a client shared by all users must never keep cookies.
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


def open_gateway(settings: Settings, own_openapi: Callable[[], dict[str, Any]]) -> Gateway:
    """Everything the routes need; nothing connects until first used."""
    upstreams = {
        name: Upstream(name, httpx.URL(url), _http_client(settings), forwarding_pool(url, settings))
        for name, url in settings.upstream_urls().items()
    }
    control = httpx.AsyncClient(
        timeout=httpx.Timeout(5.0, connect=settings.upstream_connect_timeout), trust_env=False
    )
    redis = redis_pool.connect(settings, socket_timeout=settings.redis_timeout_seconds)
    jwks = JWKSClient(
        settings.jwks_url,
        control,
        max_age=settings.jwks_max_age_seconds,
        min_refetch_interval=settings.jwks_min_refetch_seconds,
    )
    verifier = TokenVerifier(
        jwks,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        cache=VerifiedTokens(VERIFIED_TOKENS),
    )
    revocations = RevocationList(redis, settings.redis_prefix)
    limits = RateLimits(redis, f"{settings.redis_prefix}gateway:", settings)
    return Gateway(
        settings=settings,
        redis=redis,
        upstreams=upstreams,
        control=control,
        jwks=jwks,
        tokens=TokenChecker(verifier, revocations),
        limits=limits,
        checkpoint=Checkpoint(redis, revocations, limits.requests),
        openapi=openapi.OpenAPIDocument(
            settings.upstream_urls(),
            control,
            own_openapi,
            cache_seconds=settings.openapi_cache_seconds,
            timeout=settings.openapi_fetch_timeout,
        ),
        tickets=Tickets(redis, settings.redis_prefix),
        hub=Hub(
            settings.redis_url,
            settings.redis_prefix,
            timeout=settings.redis_timeout_seconds,
            heartbeat=settings.ws_redis_heartbeat_seconds,
            max_sockets_per_user=settings.ws_max_sockets_per_user,
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    # First called on a request, when every route of the app is mounted.
    @functools.cache
    def own_openapi() -> dict[str, Any]:
        return get_openapi(title=openapi.TITLE, version=openapi.VERSION, routes=app.routes)

    gateway = open_gateway(settings, own_openapi)

    async def redis_ready() -> None:
        await gateway.redis.ping()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The relay's pub/sub connection lives as long as the app.
        await gateway.hub.start()
        try:
            yield
        finally:
            await gateway.hub.stop()
            await gateway.aclose()

    app = create_service_app(
        service=SERVICE,
        settings=settings,
        lifespan=lifespan,
        readiness={"redis": redis_ready, "jwks": gateway.jwks.ready},
        # The public API's document is the merged one at /api/v1/openapi.json.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.gateway = gateway
    # Tracing is configured by now (create_service_app): each call to a service
    # gets a client span and carries the trace on in its `traceparent`.
    for upstream in gateway.upstreams.values():
        tracing.instrument_httpx(upstream.client)
    app.include_router(router())
    # Just inside the correlation id: see sockets.SocketsFirst.
    correlation = next(
        i for i, m in enumerate(app.user_middleware) if m.cls is cast(Any, CorrelationMiddleware)
    )
    app.user_middleware.insert(correlation + 1, Middleware(sockets.SocketsFirst))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=list(routing.PROXIED_METHODS),
            allow_headers=[
                "authorization",
                "content-type",
                REQUEST_ID_HEADER,
                # Auth's cookie mode: the browser keeps its refresh token in an
                # httpOnly cookie (see auth.api.cookies).
                "x-refresh-token-transport",
            ],
            expose_headers=[
                REQUEST_ID_HEADER,
                "retry-after",
                "www-authenticate",
                "location",
                # The export's file name, for a web app that saves the download.
                "content-disposition",
            ],
            # Lets a browser app on an allowed origin send and receive auth's
            # refresh-token cookie. Safe only because the origins are an
            # explicit list: the settings refuse "*", which with credentials
            # would hand any site the user's session.
            allow_credentials=True,
            max_age=600,
        )
    return app
