"""Fixtures of the database tests: a migrated wishlists schema, reached as the service's role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wishlist_shared.db import engine as db
from wishlist_shared.testing.databases import TestDatabase

MakeDatabase = Callable[[Sequence[str]], Awaitable[TestDatabase]]


@pytest.fixture
async def database(make_database: MakeDatabase) -> TestDatabase:
    return await make_database(["wishlists"])


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """Connections as the wishlists role, like the service's own."""
    created = db.create_engine(database.urls["wishlists"], "wishlists", pool_size=2)
    yield created
    await created.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.session_factory(engine)


@pytest.fixture
async def admin(database: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection: it writes fixtures past row-level security."""
    conn = await asyncpg.connect(database.admin_url)
    yield conn
    await conn.close()


@dataclass
class Seed:
    """Rows written as the superuser, with ids to refer to them by."""

    admin: asyncpg.Connection
    clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    async def user(self, name: str = "Someone") -> uuid.UUID:
        user_id = uuid.uuid4()
        await self.admin.execute(
            "INSERT INTO wishlists.users (id, email, display_name, profile_at)"
            " VALUES ($1, $2, $3, now())",
            user_id,
            f"{user_id.hex[:10]}@example.com",
            name,
        )
        return user_id

    async def wishlist(self, owner: uuid.UUID, link_hash: bytes | None = None) -> uuid.UUID:
        wishlist_id = uuid.uuid4()
        at = self._tick()
        await self.admin.execute(
            "INSERT INTO wishlists.wishlists (id, owner_id, title, link_token_hash, created_at,"
            " updated_at) VALUES ($1, $2, 'List', $3, $4, $4)",
            wishlist_id,
            owner,
            link_hash,
            at,
        )
        return wishlist_id

    async def item(self, wishlist_id: uuid.UUID, owner: uuid.UUID, quantity: int = 1) -> uuid.UUID:
        item_id = uuid.uuid4()
        at = self._tick()
        await self.admin.execute(
            "INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity, priority,"
            " created_at, updated_at) VALUES ($1, $2, $3, 'Item', $4, 3, $5, $5)",
            item_id,
            wishlist_id,
            owner,
            quantity,
            at,
        )
        return item_id

    async def share(self, wishlist_id: uuid.UUID, owner: uuid.UUID, viewer: uuid.UUID) -> uuid.UUID:
        share_id = uuid.uuid4()
        at = self._tick()
        await self.admin.execute(
            "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, email, viewer_id, via,"
            " created_at, activated_at) VALUES ($1, $2, $3, $4, $5, 'email', $6, $6)",
            share_id,
            wishlist_id,
            owner,
            f"{viewer.hex[:10]}@example.com",
            viewer,
            at,
        )
        return share_id

    async def reservation(
        self, item_id: uuid.UUID, wishlist_id: uuid.UUID, reserver: uuid.UUID, quantity: int = 1
    ) -> uuid.UUID:
        reservation_id = uuid.uuid4()
        at = self._tick()
        await self.admin.execute(
            "INSERT INTO wishlists.reservations (id, item_id, wishlist_id, reserver_id, quantity,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            reservation_id,
            item_id,
            wishlist_id,
            reserver,
            quantity,
            at,
        )
        return reservation_id


@pytest.fixture
def seed(admin: asyncpg.Connection) -> Seed:
    return Seed(admin)
