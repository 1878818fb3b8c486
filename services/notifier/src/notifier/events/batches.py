"""Several handlers' events in one transaction, when they arrive while others are being written.

A handler hands its event to :meth:`Batcher.submit`, which returns once it is
committed. At most ``slots`` transactions run at once; an event that finds a
slot free goes at once with whatever else is waiting (alone, when nothing is:
no wait is ever added for a batch to fill), one that finds them all busy
waits and goes with the next batch, up to ``most`` events a batch.
Under load this is what amortises a transaction's fixed round trips (begin,
claim and locks, look-up, commit) over several events.

Exactly once is the transaction's: every event of a batch is claimed in the
inbox and written in it, and :meth:`submit` returns only once it committed,
so the handler (and the delivery's ack) never gets ahead of the commit. A
batch that fails or is cancelled commits nothing: each of its events is then
written alone, so its own delivery meets its own failure, classified and
retried as any other (an outage waited out, a poison event dead-lettered
without taking its neighbours with it).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(eq=False)
class _Waiting(Generic[T]):
    item: T
    committed: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    taken: bool = False


class Batcher(Generic[T]):
    def __init__(
        self,
        write_one: Callable[[T], Awaitable[None]],
        write_many: Callable[[Sequence[T]], Awaitable[None]],
        *,
        slots: int,
        most: int,
    ) -> None:
        if slots < 1 or most < 1:
            raise ValueError("slots and most must be at least 1")
        self._write_one = write_one
        self._write_many = write_many
        self._slots = asyncio.Semaphore(slots)
        self._most = most
        self._waiting: deque[_Waiting[T]] = deque()

    async def submit(self, item: T) -> None:
        """Returns once ``item`` was written and committed, alone or with others.

        Raises what writing it alone raised: a batch's failure is never its
        events' own (each is written again alone).
        """
        waiting = _Waiting(item)
        self._waiting.append(waiting)
        try:
            while not waiting.taken:
                async with self._slots:
                    # Whoever has a slot writes what waits, its own event or not.
                    batch = self._take()
                    if batch == [waiting]:
                        await self._write_one(item)
                        return
                    if batch:
                        await self._run(batch)
        except BaseException:
            if not waiting.taken:
                self._waiting.remove(waiting)
            raise
        if await waiting.committed:
            return
        async with self._slots:
            await self._write_one(item)

    def _take(self) -> list[_Waiting[T]]:
        batch: list[_Waiting[T]] = []
        while self._waiting and len(batch) < self._most:
            waiting = self._waiting.popleft()
            waiting.taken = True
            batch.append(waiting)
        return batch

    async def _run(self, batch: list[_Waiting[T]]) -> None:
        committed = False
        try:
            await self._write_many([waiting.item for waiting in batch])
            committed = True
        except Exception as exc:  # noqa: BLE001 - each event meets it again, alone
            log.info("a batch of %d events failed (%r); each is written alone", len(batch), exc)
        finally:
            # Also when cancelled: the others' handlers must not wait forever.
            for waiting in batch:
                if not waiting.committed.done():
                    waiting.committed.set_result(committed)
