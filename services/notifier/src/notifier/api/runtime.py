"""What the routes work with, built once per process by ``main.create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
