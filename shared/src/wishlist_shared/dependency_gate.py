"""Pausing a process's consumers while a dependency of its handlers is down.

When a handler fails because the service's own PostgreSQL, Redis or SMTP
server cannot be used (:func:`wishlist_shared.outages.dependency_unavailable`),
taking more deliveries only cycles them through failures. The gate of the
process closes instead: every subscriber's AMQP consumer is cancelled while
the channel stays open, so the deliveries already taken stay held, unacked,
and can still be acknowledged once handled, and RabbitMQ sends no more. The
held deliveries retry their handlers with capped back-off; the first one that
succeeds opens the gate and every consumer resumes.

One gate per broker (:func:`gate_of`): the subscribers of a process share their
dependencies, so one outage concerns them all. Readiness reports a closed gate
(``/readyz`` check ``consumers``), and so do the metrics.

FastStream 0.7.8 has no pause of its own: a started ``RabbitSubscriber`` keeps
its aio-pika queue in ``_queue_obj`` and its consumer tag in ``_consumer_tag``,
which its ``stop()`` cancels. Pausing cancels that tag and clears it (so
``stop()`` does not cancel it again); resuming consumes again with the
subscriber's own callback. aio-pika's robust queue forgets a cancelled
consumer, so a reconnection while paused does not resume it behind our back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Iterator

from faststream.rabbit import RabbitBroker
from faststream.rabbit.subscriber.usecase import RabbitSubscriber

from wishlist_shared.metrics import CONSUMERS_PAUSED

log = logging.getLogger(__name__)

_RETRY_SECONDS = 1.0
"""Pause before trying again to cancel or resume a consumer whose channel failed."""


class DependencyGate:
    """Open while the dependencies answer; closed (consumers paused) while one is down."""

    def __init__(self) -> None:
        self._subscribers: list[RabbitSubscriber] = []
        self._opened = asyncio.Event()
        self._opened.set()
        self._closed_at: float | None = None
        self._holders = 0
        self._reconciling: asyncio.Task[None] | None = None

    def add(self, subscriber: RabbitSubscriber) -> None:
        self._subscribers.append(subscriber)

    @property
    def closed(self) -> bool:
        """True while a handler of this process is waiting on a dependency."""
        return not self._opened.is_set()

    @property
    def paused(self) -> bool:
        """True once closed and every consumer of the process is cancelled."""
        return self.closed and all(s._consumer_tag is None for s in self._subscribers)

    def unavailable(self, exc: BaseException, *, queue: str) -> None:
        """A handler on ``queue`` found a dependency unavailable: pause consuming."""
        if not self.closed:
            self._opened.clear()
            self._closed_at = time.monotonic()
            CONSUMERS_PAUSED.set(1)
            # Once at the start of the outage and once at its end, not per retry.
            log.warning(
                "a dependency is unavailable (%r, on %s); consumers paused until it answers",
                exc,
                queue,
            )
        # Also when already closed: a consumer (re)started meanwhile is paused too.
        self._reconcile()

    def available(self) -> None:
        """A handler succeeded: whatever was down answers again, resume consuming."""
        if self.closed:
            self._opened.set()
            CONSUMERS_PAUSED.set(0)
            since = self._closed_at or time.monotonic()
            log.warning(
                "dependencies answer again after %.1fs; consumers resumed",
                time.monotonic() - since,
            )
            self._closed_at = None
            self._reconcile()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Marks a delivery in its handler's hands, for as long as it is retried.

        The held deliveries are what finds out that the dependency is back. If
        the last one goes without succeeding (its channel closed under it, as
        RabbitMQ's consumer_timeout or a reconnection does, which cancels the
        handler; or the consumer stops), nothing would ever open the gate:
        consuming resumes instead, and the next delivery tries again (closing
        the gate again if the dependency is still away).
        """
        self._holders += 1
        try:
            yield
        finally:
            self._holders -= 1
            if self._holders == 0 and self.closed:
                self._opened.set()
                CONSUMERS_PAUSED.set(0)
                log.warning("no delivery waits for a dependency any more; consumers resumed")
                self._reconcile()

    async def wait_open(self, timeout: float) -> bool:
        """Waits until the gate opens, at most ``timeout`` seconds; True if it is open."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._opened.wait()
        return not self.closed

    def _reconcile(self) -> None:
        if self._reconciling is None or self._reconciling.done():
            self._reconciling = asyncio.create_task(self._apply(), name="consumer-gate")

    async def _apply(self) -> None:
        # One task brings every consumer to the gate's state, again and again
        # while the state changes under it or a channel refuses: cancel and
        # consume are RPCs that can fail while RabbitMQ reconnects.
        while True:
            paused = self.closed
            failed = False
            for subscriber in list(self._subscribers):
                try:
                    if paused:
                        await _pause(subscriber)
                    else:
                        await _resume(subscriber)
                except Exception as exc:  # noqa: BLE001 - retried below, never lost
                    failed = True
                    log.warning(
                        "could not %s consumer of %s: %r",
                        "pause" if paused else "resume",
                        subscriber.queue.name,
                        exc,
                    )
            if paused == self.closed and not failed:
                return
            if failed:
                await asyncio.sleep(_RETRY_SECONDS)


async def _pause(subscriber: RabbitSubscriber) -> None:
    queue, tag = subscriber._queue_obj, subscriber._consumer_tag
    if queue is None or tag is None:
        return
    # Cleared first: the robust queue forgets the consumer as soon as the
    # cancel is asked for, even if the RPC then fails, so it is gone either way.
    subscriber._consumer_tag = None
    if not queue.channel.is_closed:
        await queue.cancel(tag)


async def _resume(subscriber: RabbitSubscriber) -> None:
    queue = subscriber._queue_obj
    if queue is None or subscriber._consumer_tag is not None or not subscriber.running:
        return
    subscriber._consumer_tag = await queue.consume(
        # As RabbitSubscriber.start() does: aio-pika's callback type is the
        # abstract message, FastStream's the concrete one it always gets.
        subscriber.consume,  # type: ignore[arg-type]
        arguments=subscriber.consume_args,
    )


_GATES: weakref.WeakKeyDictionary[RabbitBroker, DependencyGate] = weakref.WeakKeyDictionary()


def gate_of(broker: RabbitBroker) -> DependencyGate:
    """The gate shared by every subscriber of ``broker``."""
    gate = _GATES.get(broker)
    if gate is None:
        gate = _GATES[broker] = DependencyGate()
    return gate
