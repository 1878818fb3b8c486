"""The auth service's application: ``uvicorn --factory auth.main:create_app``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from auth import api
from auth.api.errors import DOMAIN_ERRORS
from auth.api.passwords import Passwords
from auth.api.runtime import Runtime
from auth.api.throttle import LoginThrottle, ResetThrottle
from auth.db.tables import outbox
from auth.domain.passwords import PasswordHasher
from auth.domain.throttling import LoginLimits
from auth.keys.material import KeyCipher
from auth.keys.store import KeyStore
from auth.pruning import SessionPruner
from auth.revocations import RevocationKeeper
from auth.settings import Settings
from wishlist_shared import health, redis_pool
from wishlist_shared.db import engine as db
from wishlist_shared.jwt import TokenVerifier
from wishlist_shared.messaging import EventPublisher, create_broker, run_broker
from wishlist_shared.outbox import OutboxRelay
from wishlist_shared.revocation import RevocationList, RevocationListIncomplete
from wishlist_shared.security import TokenChecker
from wishlist_shared.service import create_service_app

SERVICE = "auth"
STARTUP_DB_TIMEOUT = 10.0
"""Seconds the start waits for the database to settle the signing key before serving anyway."""
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = db.create_engine(settings.database_url, SERVICE, pool_size=settings.db_pool_size)
    sessions = db.session_factory(engine)
    redis = redis_pool.connect(settings)
    broker = create_broker(settings, service=SERVICE)
    relay = OutboxRelay(engine, outbox, EventPublisher(broker, settings))
    keys = KeyStore(
        sessions,
        KeyCipher(settings.secret_key),
        access_ttl_seconds=settings.access_token_ttl_seconds,
        cache_seconds=settings.key_cache_seconds,
    )
    revocations = RevocationList(redis, settings.redis_prefix)
    keeper = RevocationKeeper(
        sessions, revocations, access_ttl_seconds=settings.access_token_ttl_seconds
    )
    pruner = SessionPruner(sessions, interval=settings.session_prune_interval_seconds)
    runtime = Runtime(
        settings=settings,
        sessions=sessions,
        keys=keys,
        passwords=Passwords(PasswordHasher(), settings.password_hash_concurrency),
        throttle=LoginThrottle(
            redis,
            f"{settings.redis_prefix}auth:",
            LoginLimits(
                per_account=settings.login_failures_per_account,
                per_address=settings.login_failures_per_address,
                window_seconds=settings.login_failure_window_seconds,
            ),
        ),
        reset_throttle=ResetThrottle(
            redis,
            f"{settings.redis_prefix}auth:",
            per_email=settings.password_reset_requests_per_email,
            window_seconds=settings.password_reset_window_seconds,
        ),
        revocations=revocations,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(STARTUP_DB_TIMEOUT):
                await keys.ensure_active()
        except Exception:
            # Serve anyway (readiness says the database is down); the first
            # token issued once it is back creates the key.
            log.exception("could not make sure a signing key exists; will retry on first use")
        # Before the broker: tokens depend on the revocation list, not on RabbitMQ.
        keeper.start()
        pruner.start()
        try:
            async with run_broker(broker, settings):
                await relay.start()
                try:
                    yield
                finally:
                    await relay.stop()
        finally:
            await pruner.stop()
            await keeper.stop()
        await redis.aclose()
        await engine.dispose()

    async def revocations_complete() -> None:
        if not await revocations.is_complete():
            raise RevocationListIncomplete("not restored yet")

    app = create_service_app(
        service=SERVICE,
        settings=settings,
        lifespan=lifespan,
        readiness={
            **health.service_readiness(engine, redis, broker),
            "revocations": revocations_complete,
        },
        domain_errors=DOMAIN_ERRORS,
    )
    app.state.runtime = runtime
    # Auth verifies its own tokens from its own key store: no HTTP to itself.
    app.state.token_checker = TokenChecker(
        TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience),
        revocations,
    )
    api.mount(app)
    return app
