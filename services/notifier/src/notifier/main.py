"""The notifier service's application: ``uvicorn --factory notifier.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from notifier.settings import Settings
from wishlist_shared.db import engine as db
from wishlist_shared.service import create_service_app

SERVICE = "notifier"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = db.create_engine(settings.database_url, SERVICE, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return create_service_app(
        service=SERVICE,
        settings=settings,
        lifespan=lifespan,
        readiness={"database": lambda: db.ping(engine)},
    )
