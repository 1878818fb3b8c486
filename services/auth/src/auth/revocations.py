"""Keeps the revocation list in Redis whole, restoring it from PostgreSQL when Redis lost it.

Every revocation auth makes is a session row's ``revoked_at`` first and a
Redis key second; the Redis copy is what the gateway and the services read.
When Redis comes back empty, its seal is gone and verifiers refuse every token
(503, see :mod:`wishlist_shared.revocation`); each auth replica checks the seal
every ``interval`` seconds and, finding it missing, writes back the sessions
revoked recently enough that one of their access tokens may still be alive,
then the seal. Replicas racing to do it write the same keys.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.db import sessions as session_rows
from wishlist_shared.jwt import LEEWAY_SECONDS
from wishlist_shared.revocation import RevocationList

log = logging.getLogger(__name__)

RESTORES = Counter(
    "auth_revocation_list_restores",
    "Times the revocation list was found missing from Redis and restored from the database",
)


class RevocationKeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        revocations: RevocationList,
        *,
        access_ttl_seconds: int,
        interval: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.revocations = revocations
        # A token lives this long after its session's revocation at most.
        self.horizon = access_ttl_seconds + LEEWAY_SECONDS
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def ensure_complete(self) -> int | None:
        """Restores the list if its seal is missing; the number of sessions written back."""
        if await self.revocations.is_complete():
            return None
        now = datetime.now(UTC)
        async with self.sessions() as db:
            revoked = await session_rows.revoked_since(db, now - timedelta(seconds=self.horizon))
        alive = [
            (sid, left)
            for sid, revoked_at in revoked
            if (left := self.horizon - int((now - revoked_at).total_seconds())) > 0
        ]
        await self.revocations.restore(alive)
        RESTORES.inc()
        log.warning("revocation list was missing from Redis; restored %d sessions", len(alive))
        return len(alive)

    async def _run(self) -> None:
        while True:
            try:
                await self.ensure_complete()
            except Exception as exc:  # noqa: BLE001 - Redis or PostgreSQL down: try again
                log.warning("could not check the revocation list: %r", exc)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="revocation-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
