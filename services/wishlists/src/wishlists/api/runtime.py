"""What the routes work with, built once per process by ``main.create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wishlists.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    """The sessions' engine, whose pooled connections the hottest read uses as asyncpg's."""
