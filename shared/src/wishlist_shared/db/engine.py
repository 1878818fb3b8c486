"""Async engines and sessions bound to one service's schema."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_HOST = "127.0.0.1:5432"
DEFAULT_DATABASE = "wishlist"


def role_name(service: str) -> str:
    return f"{service}_svc"


def default_database_url(service: str) -> str:
    """The URL a service uses on a developer's machine: its own role, its own schema."""
    role = role_name(service)
    return f"postgresql+asyncpg://{role}:dev-insecure-{service}@{DEFAULT_HOST}/{DEFAULT_DATABASE}"


IDLE_BEFORE_PING_SECONDS = 1.0
"""A pooled connection unused for longer is pinged before it is handed out."""


def create_engine(url: str, service: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # The most recently returned connection first: under load the same few
        # stay busy (and need no ping), the rest idle and get pinged.
        pool_use_lifo=True,
        connect_args={"server_settings": {"search_path": service, "application_name": service}},
    )
    ping_when_idle(engine, IDLE_BEFORE_PING_SECONDS)
    return engine


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pings a pooled connection at checkout only if it sat unused for ``idle_seconds``.

    ``pool_pre_ping`` pings at every checkout: a round trip per transaction,
    the cost of a whole statement on a short request. A connection used a
    moment ago is alive unless the server went away in that moment, and then
    the statement that meets the broken connection fails (a request gets its
    503, a message is retried) and SQLAlchemy discards every connection the
    pool held from before; a connection that sat idle, which is where a
    restart or a terminated backend usually lands, is still replaced before
    anyone uses it.
    """
    pool_events = engine.sync_engine.pool

    @event.listens_for(pool_events, "checkin")
    def _returned(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(pool_events, "checkout")
    def _ping_if_idle(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            # Checkout runs inside SQLAlchemy's greenlet: the adapter's ping
            # awaits the round trip.
            dbapi.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another.
            raise DisconnectionError("connection lost while idle in the pool") from exc


_RETURNED_AT = "wishlist_returned_at"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
