"""Deletes expired sessions in the background, so no login pays for them.

A session whose last refresh token has expired can never be used again, and
its spent tokens no longer need keeping to spot a reuse: its rows are only
weight. Each auth replica prunes every ``interval`` seconds, in batches of
``batch`` rows, each batch its own short transaction; replicas pruning at the
same moment skip each other's rows.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.db import sessions as session_rows

log = logging.getLogger(__name__)

PRUNED = Counter("auth_expired_sessions_pruned", "Expired sessions deleted by the pruner")


class SessionPruner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        batch: int = 1000,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    async def prune(self) -> int:
        """Deletes every session expired by now; how many."""
        pruned = 0
        while True:
            async with self.sessions() as db, db.begin():
                deleted = await session_rows.prune_expired_sessions(db, batch=self.batch)
            pruned += deleted
            PRUNED.inc(deleted)
            if deleted < self.batch:
                return pruned

    async def _run(self) -> None:
        while True:
            try:
                pruned = await self.prune()
                if pruned:
                    log.info("pruned %d expired sessions", pruned)
            except Exception as exc:  # noqa: BLE001 - PostgreSQL down: the next round retries
                log.warning("could not prune expired sessions: %r", exc)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-pruner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
