"""A burst of Redis commands beyond the pool's size waits for connections instead of failing."""

from __future__ import annotations

import asyncio

from wishlist_shared import redis_pool
from wishlist_shared.settings import ProcessSettings
from wishlist_shared.testing.servers import Servers


async def test_more_concurrent_commands_than_connections_all_succeed(servers: Servers) -> None:
    settings = ProcessSettings(redis_url=servers.redis_url, redis_max_connections=2)
    client = redis_pool.connect(settings, socket_timeout=5)
    try:
        # Each BLPOP holds its connection for a moment, as a burst of requests does.
        answers = await asyncio.gather(
            *(client.blpop([f"t:pool:{n}"], timeout=0.05) for n in range(20))
        )
    finally:
        await client.aclose()
    assert answers == [None] * 20
