"""Fixed-window counters in Redis, for request rate limits and failed-login throttling."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class Window:
    count: int
    retry_after: int

    def exceeds(self, limit: int) -> bool:
        return self.count > limit


class FixedWindow:
    """Counts hits per key in windows of ``seconds``; all replicas share the count."""

    def __init__(self, redis: Redis, prefix: str, seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.seconds = seconds

    def key(self, key: str) -> str:
        """The Redis key holding ``key``'s count."""
        return f"{self.prefix}{key}"

    async def hit(self, key: str) -> Window:
        k = self.key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            # NX keeps the window's end fixed at its first hit.
            pipe.incr(k)
            pipe.expire(k, self.seconds, nx=True)
            pipe.ttl(k)
            count, _, ttl = await pipe.execute()
        return Window(int(count), max(1, int(ttl)))

    async def peek(self, key: str) -> Window:
        k = self.key(key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(k)
            pipe.ttl(k)
            count, ttl = await pipe.execute()
        return Window(int(count or 0), max(1, int(ttl)))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.key(key))
