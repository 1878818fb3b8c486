"""Counters in Redis, shared by every replica: failed logins (429 with ``Retry-After``)
and password-reset requests per address.
"""

from __future__ import annotations

from redis.asyncio import Redis

from auth.domain.throttling import (
    IPAddress,
    LoginLimits,
    account_key,
    address_key,
    blocked,
    reset_requests_key,
)
from wishlist_shared.problems import Problem, ProblemType
from wishlist_shared.ratelimit import FixedWindow

TOO_MANY_ATTEMPTS = ProblemType(429, "too-many-attempts", "Too many failed attempts")


class LoginThrottle:
    def __init__(self, redis: Redis, prefix: str, limits: LoginLimits) -> None:
        self.limits = limits
        self.window = FixedWindow(redis, prefix, limits.window_seconds)

    async def check(self, email: str, address: IPAddress | None) -> None:
        """Raises a 429 problem while the account or the address is locked out.

        Both counts come in one round trip; the window's end is asked for only
        when it is needed, to say when to come back.
        """
        limits = (
            (account_key(email), self.limits.per_account),
            (address_key(address), self.limits.per_address),
        )
        counts = await self.window.redis.mget([self.window.key(key) for key, _ in limits])
        for (key, limit), count in zip(limits, counts, strict=True):
            if blocked(int(count or 0), limit):
                window = await self.window.peek(key)
                raise Problem(
                    TOO_MANY_ATTEMPTS,
                    "Too many failed attempts; try again later.",
                    headers={"Retry-After": str(window.retry_after)},
                )

    async def failed(self, email: str, address: IPAddress | None) -> None:
        await self.window.hit(account_key(email))
        await self.window.hit(address_key(address))

    async def succeeded(self, email: str) -> None:
        # The owner got in: earlier typos no longer count against the account.
        # The address keeps its count, or one good account would let a client
        # reset its budget for guessing others.
        await self.window.reset(account_key(email))


class ResetThrottle:
    """At most ``per_email`` reset emails to one address per window.

    Refused requests are not told apart (they still answer 202), or the
    answer would say that the address was asked for recently.
    """

    def __init__(self, redis: Redis, prefix: str, per_email: int, window_seconds: int) -> None:
        self.per_email = per_email
        self.window = FixedWindow(redis, prefix, window_seconds)

    async def allow(self, email: str) -> bool:
        """Counts one request for ``email``; False once its window is spent."""
        window = await self.window.hit(reset_requests_key(email))
        return not window.exceeds(self.per_email)
