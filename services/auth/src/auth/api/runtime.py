"""What the routes work with, built once per process by ``main.create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.api.passwords import Passwords
from auth.api.throttle import LoginThrottle, ResetThrottle
from auth.keys.store import KeyStore
from auth.settings import Settings
from wishlist_shared.revocation import RevocationList


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyStore
    passwords: Passwords
    throttle: LoginThrottle
    reset_throttle: ResetThrottle
    revocations: RevocationList
