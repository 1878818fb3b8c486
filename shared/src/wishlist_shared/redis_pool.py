"""The one Redis client of a process: a bounded pool whose callers wait for a connection.

redis-py's default pool refuses a command outright (``MaxConnectionsError``)
once its 100 connections are in use, so a burst of requests or WebSocket
handshakes beyond that failed although Redis was fine. Here a command waits
for a free connection, up to :data:`POOL_WAIT_SECONDS`, and only then fails as
Redis being unavailable (a 503 to retry).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from wishlist_shared.settings import ProcessSettings

POOL_WAIT_SECONDS = 2.0


def connect(settings: ProcessSettings, *, socket_timeout: float | None = None) -> Redis:
    """A client that owns its pool: ``await client.aclose()`` closes both."""
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=POOL_WAIT_SECONDS,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
    )
    return Redis.from_pool(pool)
