"""Async engines and sessions bound to one service's schema."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_HOST = "127.0.0.1:5432"
DEFAULT_DATABASE = "wishlist"


def role_name(service: str) -> str:
    return f"{service}_svc"


def default_database_url(service: str) -> str:
    """The URL a service uses on a developer's machine: its own role, its own schema."""
    role = role_name(service)
    return f"postgresql+asyncpg://{role}:dev-insecure-{service}@{DEFAULT_HOST}/{DEFAULT_DATABASE}"


def create_engine(url: str, service: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": service, "application_name": service}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
