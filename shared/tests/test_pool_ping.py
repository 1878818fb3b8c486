"""Pooled connections are pinged at checkout only after sitting idle, not on every use."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from wishlist_shared.db import engine as db
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import MakeDatabase


async def _gone(admin: asyncpg.Connection, pid: int) -> bool:
    return not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every ping a pooled connection gets, counted."""
    counted: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def counting(self: Any) -> None:
        counted.append(1)
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return counted


async def _engine(make_database: MakeDatabase) -> tuple[AsyncEngine, str]:
    database = await make_database([])
    url = make_url(database.admin_url).set(drivername="postgresql+asyncpg")
    return db.create_engine(url.render_as_string(hide_password=False), "public", pool_size=1), (
        database.admin_url
    )


async def test_a_connection_used_a_moment_ago_is_not_pinged(
    make_database: MakeDatabase, pings: list[int]
) -> None:
    engine, _ = await _engine(make_database)
    try:
        first = await _backend(engine)
        for _ in range(5):
            assert await _backend(engine) == first
        assert pings == []
    finally:
        await engine.dispose()


async def test_an_idle_connection_whose_backend_died_is_replaced_before_use(
    make_database: MakeDatabase, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every returned connection counts as idle: the pool's one is pinged.
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
    engine, admin_url = await _engine(make_database)
    try:
        first = await _backend(engine)
        admin = await asyncpg.connect(admin_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
            await eventually(
                lambda: _gone(admin, first), message="the backend outlived its termination"
            )
        finally:
            await admin.close()
        # Answered on a new connection, not failed on the dead one.
        assert await _backend(engine) != first
        assert pings
    finally:
        await engine.dispose()
