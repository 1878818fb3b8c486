"""The wishlists service's application: ``uvicorn --factory wishlists.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from wishlist_shared import health, redis_pool
from wishlist_shared.db import engine as db
from wishlist_shared.deliveries import watch_dead_letters
from wishlist_shared.messaging import EventPublisher, create_broker, run_broker
from wishlist_shared.outbox import OutboxRelay
from wishlist_shared.security import jwks_token_checker
from wishlist_shared.service import create_service_app
from wishlists import api
from wishlists.api.errors import DOMAIN_ERRORS
from wishlists.api.runtime import Runtime
from wishlists.db.tables import outbox
from wishlists.events.consumers import subscribe_all
from wishlists.previews.previewer import LinkPreviewer
from wishlists.settings import Settings

SERVICE = "wishlists"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = db.create_engine(settings.database_url, SERVICE, pool_size=settings.db_pool_size)
    sessions = db.session_factory(engine)
    redis = redis_pool.connect(settings)
    broker = create_broker(settings, service=SERVICE)
    # Queues are declared when the broker starts, so before it does.
    subscribe_all(broker, settings, sessions)
    relay = OutboxRelay(engine, outbox, EventPublisher(broker, settings))
    # Never through a proxy from the environment: auth is an internal neighbour.
    jwks_http = httpx.AsyncClient(trust_env=False)
    previewer = LinkPreviewer.create(settings, redis)
    if settings.link_preview_test_allowed_addresses:
        log.warning(
            "link previews may fetch these non-public addresses (a setting for tests only): %s",
            ", ".join(settings.link_preview_test_allowed_addresses),
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_broker(broker, settings), watch_dead_letters(broker, settings):
            await relay.start()
            try:
                yield
            finally:
                await relay.stop()
        await jwks_http.aclose()
        await previewer.aclose()
        await redis.aclose()
        await engine.dispose()

    app = create_service_app(
        service=SERVICE,
        settings=settings,
        lifespan=lifespan,
        readiness=health.service_readiness(engine, redis, broker),
        domain_errors=DOMAIN_ERRORS,
    )
    app.state.link_previewer = previewer
    app.state.runtime = Runtime(settings=settings, sessions=sessions, engine=engine)
    # The gateway checked the token already; checking again here means a
    # request that reaches the service some other way is refused all the same.
    app.state.token_checker = jwks_token_checker(
        settings,
        redis,
        jwks_http,
        jwks_url=settings.jwks_url,
        max_age=settings.jwks_max_age_seconds,
        min_refetch_interval=settings.jwks_min_refetch_seconds,
    )
    api.mount(app)
    return app
