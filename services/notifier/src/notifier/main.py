"""The notifier service's application: ``uvicorn --factory notifier.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from notifier import api
from notifier.api.errors import DOMAIN_ERRORS
from notifier.api.runtime import Runtime
from notifier.db.tables import outbox
from notifier.events.consumers import subscribe_all
from notifier.events.mailer import Mailer
from notifier.events.push import RedisPushPublisher
from notifier.settings import Settings
from wishlist_shared import health, redis_pool
from wishlist_shared.db import engine as db
from wishlist_shared.deliveries import watch_dead_letters
from wishlist_shared.messaging import create_broker, run_broker
from wishlist_shared.outbox import OutboxRelay
from wishlist_shared.security import jwks_token_checker
from wishlist_shared.service import create_service_app

SERVICE = "notifier"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = db.create_engine(settings.database_url, SERVICE, pool_size=settings.db_pool_size)
    sessions = db.session_factory(engine)
    redis = redis_pool.connect(settings)
    broker = create_broker(settings, service=SERVICE)
    # Email is off without an SMTP server: nothing is queued, nothing sent.
    mailer = Mailer(sessions, settings) if settings.email_enabled else None
    # Queues are declared when the broker starts, so before it does.
    subscribe_all(broker, settings, sessions, mailer.wake if mailer else lambda: None)
    # The outbox here holds pushes, relayed to Redis pub/sub rather than RabbitMQ.
    pushes = OutboxRelay(
        engine,
        outbox,
        RedisPushPublisher(redis, settings.redis_prefix),
        poll_interval=settings.push_poll_seconds,
    )
    # Never through a proxy from the environment: auth is an internal neighbour.
    jwks_http = httpx.AsyncClient(trust_env=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_broker(broker, settings), watch_dead_letters(broker, settings):
            await pushes.start()
            if mailer:
                await mailer.start()
            try:
                yield
            finally:
                if mailer:
                    await mailer.stop()
                await pushes.stop()
        await jwks_http.aclose()
        await redis.aclose()
        await engine.dispose()

    app = create_service_app(
        service=SERVICE,
        settings=settings,
        lifespan=lifespan,
        readiness=health.service_readiness(engine, redis, broker),
        domain_errors=DOMAIN_ERRORS,
    )
    app.state.runtime = Runtime(settings=settings, sessions=sessions)
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
