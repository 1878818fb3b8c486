"""Password hashing off the event loop, a bounded number at a time.

Each Argon2id hash holds a CPU for ~0.1 s and 64 MiB; on the event loop it
would stall every other request, and unbounded in threads a burst of logins
would exhaust memory.
"""

from __future__ import annotations

import anyio
import anyio.to_thread

from auth.domain.passwords import PasswordHasher, Verdict


class Passwords:
    def __init__(self, hasher: PasswordHasher, concurrency: int) -> None:
        self.hasher = hasher
        self.concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        return self._limiter

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hasher.hash, password, limiter=self.limiter)

    async def check(self, password: str, stored: str | None) -> Verdict:
        return await anyio.to_thread.run_sync(
            self.hasher.check, password, stored, limiter=self.limiter
        )
