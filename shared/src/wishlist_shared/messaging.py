"""RabbitMQ for the platform: the broker, publishing events, consuming them, dead letters.

Topology, all durable, all named from ``settings.events_exchange`` (``X``) and
``settings.queue_prefix``:

- ``X`` (topic) carries every event, routed by its versioned routing key. Its
  ``alternate-exchange`` is ``X.unrouted`` (fanout) bound to the quorum queue
  ``X.unrouted``: an event that no queue is bound for yet is kept there, not
  dropped, and an operator can see it.
- :func:`subscribe` gives each (service, purpose) one quorum queue
  ``<prefix><service>.<purpose>`` bound to ``X`` for one event type. Competing
  replicas share it. One queue per event type keeps dead letters, metrics and
  replays per event; a service that needs several events subscribes several
  times. There is no order between queues (and little within one, since
  deliveries are handled concurrently and retried), so handlers must not
  depend on the order of events.
- Concurrency: aiormq runs every delivery in a task of its own, so a
  subscription handles as many deliveries at once as its ``prefetch`` lets in.
  :func:`subscribe`'s ``max_workers`` bounds that separately: at most that many
  handlers run at once, the rest of the prefetched deliveries wait (unacked)
  for a slot, so the next delivery is already in the process when a handler
  finishes.
- Its dead letters go through ``X.dlx`` (direct), keyed by the queue's name, to
  ``<queue>.dlq``; ``python -m wishlist_shared.deliveries dead-letters`` shows
  them and moves them back (:mod:`wishlist_shared.deliveries`).

Acknowledgement is ``AckPolicy.MANUAL``: a message is acknowledged only after
its handler returned (its transaction committed). A handler that fails because
a dependency of the service is unavailable (its database, Redis or SMTP server
unreachable, its role locked out, a serialization failure or deadlock:
:func:`wishlist_shared.outages.dependency_unavailable`) is retried for as long
as that lasts, with capped back-off and jitter, never counted as an attempt and
never dead-lettered nor requeued (a requeue counts toward ``DELIVERY_LIMIT``).
Unless it only lost a race (serialization failure, deadlock), every consumer
of the process is paused meanwhile
(:mod:`wishlist_shared.dependency_gate`): RabbitMQ sends no more, the held
deliveries stay unacked, and ``/readyz`` says ``consumers: unavailable``; one
held for :data:`HELD_DELIVERY_RELEASE_SECONDS` is put back as a fresh copy
before RabbitMQ's ``consumer_timeout`` would return it counted. Any other
failure is retried in-process with exponential back-off up to
``max_attempts`` times, then the message is rejected without requeue, which
dead-letters it; a body that does not validate, or is larger than
:data:`MAX_EVENT_BYTES`, is dead-lettered at once.
Dead-lettering is ``at-least-once`` (RabbitMQ keeps the message until the
dead-letter queue confirmed it), and a message whose
handling kills the consumer each time is dead-lettered after
``DELIVERY_LIMIT`` deliveries instead of looping forever.

``fail_fast=False`` (checked in aio-pika 10.2's ``RobustConnection.connect``)
makes ``broker.start()`` wait, reconnecting, until RabbitMQ answers instead of
raising. A service must not wait for it before serving, so its lifespan runs
the broker with :func:`run_broker`, which starts it in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, cast

import aio_pika
import aio_pika.abc
import aiormq
from aio_pika.abc import HeadersType
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.message import RabbitMessage
from faststream.rabbit.schemas.queue import QuorumQueueArgs
from faststream.rabbit.subscriber.usecase import RabbitSubscriber
from pydantic import ValidationError

from wishlist_shared import correlation, tracing
from wishlist_shared.dependency_gate import DependencyGate, gate_of
from wishlist_shared.events import MAX_EVENT_BYTES, Envelope, P, encode
from wishlist_shared.metrics import (
    CONSUMER_DEAD_LETTERED,
    CONSUMER_DEPENDENCY_FAILURES,
    CONSUMER_DURATION,
    CONSUMER_FAILURES,
    CONSUMER_HANDLED,
    CONSUMER_LAG,
    CONSUMER_REDELIVERED,
    CONSUMER_RELEASED,
    CONSUMER_WAITING,
)
from wishlist_shared.outages import dependency_unavailable, transaction_conflict
from wishlist_shared.outbox import CORRELATION_HEADER, OutgoingMessage, PublishRefusedError
from wishlist_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
PERSISTENT = int(aio_pika.DeliveryMode.PERSISTENT)
DELIVERY_LIMIT = 10
"""Deliveries after which RabbitMQ dead-letters a message that was never settled."""
RETRY_DELAY_CAP = 5.0
"""Longest pause between two in-process attempts of a failing handler."""
DEFAULT_PREFETCH = 10
"""Deliveries a subscription takes unacked, and so handles at once, unless told otherwise."""
CONSUMER_GRACE_SECONDS = 10.0
"""On shutdown, how long handlers in flight may run on before the connection closes."""


class PublishNotConfirmedError(RuntimeError):
    """RabbitMQ did not take responsibility for a message (nack, return or no answer)."""


class BrokerRefusedError(PublishNotConfirmedError, PublishRefusedError):
    """RabbitMQ refused this message: a nack, a return, or a channel closed over its publish.

    The outbox relay parks a row refused repeatedly; a broker that cannot be
    reached raises anything but this, and is waited for.
    """


# RabbitMQ closes the channel (not the connection) with a reply code over the
# one command it refuses: 311 content-too-large, 403 access-refused, 404
# not-found, 406 precondition-failed ("message size larger than configured max
# size"). aiormq maps some codes to classes that drop the number, hence both.
_REFUSING_CHANNEL_ERRORS = (
    aiormq.exceptions.ChannelAccessRefused,
    aiormq.exceptions.ChannelNotFoundEntity,
    aiormq.exceptions.ChannelPreconditionFailed,
    aiormq.exceptions.ChannelLockedResource,
)


def _refused(exc: BaseException) -> bool:
    """Whether a publish's failure is RabbitMQ's "no" to the message rather than an outage."""
    if isinstance(exc, aiormq.exceptions.DeliveryError):  # nack, reject, or a return raised
        return True
    if isinstance(exc, _REFUSING_CHANNEL_ERRORS):
        return True
    if type(exc) is aiormq.exceptions.ChannelClosed and exc.args:
        code = exc.args[0]
        return isinstance(code, int) and 300 <= code < 600
    return False


# --- names and declarations --------------------------------------------------


def queue_name(settings: ServiceSettings, *, service: str, purpose: str) -> str:
    return f"{settings.queue_prefix}{service}.{purpose}"


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}.dlq"


def _expiry(settings: ServiceSettings) -> QuorumQueueArgs:
    if settings.queue_expiry_seconds > 0:
        return {"x-expires": settings.queue_expiry_seconds * 1000}
    return {}


def events_exchange(settings: ServiceSettings) -> RabbitExchange:
    """The topic exchange of every event; declared identically by publishers and subscribers."""
    return RabbitExchange(
        settings.events_exchange,
        ExchangeType.TOPIC,
        durable=True,
        arguments={"alternate-exchange": f"{settings.events_exchange}.unrouted"},
    )


def unrouted_exchange(settings: ServiceSettings) -> RabbitExchange:
    return RabbitExchange(f"{settings.events_exchange}.unrouted", ExchangeType.FANOUT, durable=True)


def unrouted_queue(settings: ServiceSettings) -> RabbitQueue:
    # Events nobody consumes (yet) would otherwise pile up forever: keep them
    # long enough for a consumer deployed late, and drop the oldest past a cap.
    arguments: QuorumQueueArgs = {
        **_expiry(settings),
        "x-max-length": settings.unrouted_max_messages,
        "x-overflow": "drop-head",
        "x-message-ttl": settings.unrouted_max_age_seconds * 1000,
    }
    return RabbitQueue(
        f"{settings.events_exchange}.unrouted", QueueType.QUORUM, arguments=arguments
    )


def dead_letter_exchange(settings: ServiceSettings) -> RabbitExchange:
    return RabbitExchange(f"{settings.events_exchange}.dlx", ExchangeType.DIRECT, durable=True)


# --- the broker ---------------------------------------------------------------


def create_broker(
    settings: ServiceSettings, *, service: str, reconnect_interval: float = 1.0
) -> RabbitBroker:
    """A broker that reconnects forever instead of failing; start it with :func:`run_broker`."""
    return RabbitBroker(
        settings.rabbitmq_url,
        # Never raise at start when RabbitMQ is down: wait and reconnect.
        fail_fast=False,
        # Reconnecting often is cheap, and publishing resumes sooner after an outage.
        reconnect_interval=reconnect_interval,
        timeout=10.0,
        # On shutdown, consumers stop taking messages and their handlers in
        # flight get this long to commit and ack; whatever is unsettled then
        # goes back to the queue when the channel closes (never acked unhandled).
        graceful_timeout=CONSUMER_GRACE_SECONDS,
        app_id=service,
        # No FastDepends: a handler takes the delivery as its one argument
        # (see _undecoded). Its injection of the message ran a worker thread
        # and a task group per delivery, a fifth of a consumer's CPU.
        apply_types=False,
        # FastStream's own logger has its own handler and format; ours goes to
        # the root logger, which writes JSON lines with the correlation id.
        logger=logging.getLogger("faststream.rabbit"),
        # Its "Received" and "Processed" lines, two a delivery formatted as
        # JSON, are debug rather than info: the handlers log what each event did.
        log_level=logging.DEBUG,
    )


async def _start_when_reachable(
    broker: RabbitBroker, settings: ServiceSettings, retry_interval: float
) -> None:
    # broker.start() would wait for RabbitMQ too, but cancelling it while it
    # waits leaves aio-pika's reconnection loop running with no one to close
    # it. A plain connection is cancelled cleanly, so wait with that first.
    failures = 0
    while True:
        try:
            probe = await aio_pika.connect(settings.rabbitmq_url, timeout=5)
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            failures += 1
            # The first failure and then one a minute or so: an outage is
            # visible in the logs without a line per retry.
            if failures == 1 or failures % max(1, round(60 / retry_interval)) == 0:
                log.warning(
                    "RabbitMQ unreachable (%r, %d attempts); retrying every %.1fs",
                    exc,
                    failures,
                    retry_interval,
                )
            await asyncio.sleep(retry_interval)
            continue
        await probe.close()
        break
    try:
        await broker.start()
    except Exception:
        # Nobody awaits this task until shutdown: say it here, loudly.
        log.exception("broker failed to start")
        raise
    log.info("broker started")


@contextlib.asynccontextmanager
async def run_broker(
    broker: RabbitBroker, settings: ServiceSettings, *, retry_interval: float = 1.0
) -> AsyncIterator[None]:
    """Starts ``broker`` in the background for the body of the ``with``, then stops it.

    The body runs at once, whether or not RabbitMQ is up: a service serves (and
    answers ``/readyz`` with "broker unavailable") while it waits. Publishing
    before the broker is connected raises, which the outbox relay retries.
    """
    task = asyncio.create_task(
        _start_when_reachable(broker, settings, retry_interval), name="broker-start"
    )
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()


# --- publishing ---------------------------------------------------------------


class EventPublisher:
    """Publishes events to the events exchange, persistent, and waits for RabbitMQ's confirm."""

    def __init__(
        self, broker: RabbitBroker, settings: ServiceSettings, *, confirm_timeout: float = 5.0
    ) -> None:
        self.broker = broker
        self.settings = settings
        self.confirm_timeout = confirm_timeout
        self._exchange = events_exchange(settings)
        self._declared = False
        self._declare_lock = asyncio.Lock()

    async def _declare(self) -> None:
        async with self._declare_lock:
            if self._declared:
                return
            # FastStream remembers declarations per connection; ``declare()``
            # on what it returns declares again for real, which brings back
            # what was deleted (an expired unrouted queue, an exchange an
            # operator removed) since the cache was filled.
            unrouted = await self.broker.declare_exchange(unrouted_exchange(self.settings))
            await unrouted.declare()
            queue = await self.broker.declare_queue(unrouted_queue(self.settings))
            await queue.declare()
            await queue.bind(unrouted)
            events = await self.broker.declare_exchange(self._exchange)
            await events.declare()
            self._declared = True

    async def publish(
        self,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, str],
    ) -> None:
        """Returns once RabbitMQ confirmed the message.

        Raises :class:`BrokerRefusedError` on a nack, a return or a channel
        closed with an error reply over this publish; anything else on no
        confirm within ``confirm_timeout``, or a connection that is down or
        drops meanwhile.
        """
        try:
            async with asyncio.timeout(self.confirm_timeout):
                # A declaration that fails is not about this message: never a refusal.
                await self._declare()
                result = await self._publish_refusable(
                    routing_key, body, message_id=message_id, headers=headers
                )
            if not isinstance(result, aiormq.spec.Basic.Ack):
                raise BrokerRefusedError(f"{routing_key} {message_id}: {result!r}")
        except BaseException:
            # Whatever failed may be a missing exchange or queue: the next
            # attempt (the relay retries) declares the topology again.
            self._declared = False
            raise

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Exception | None]:
        """Sends ``messages`` in order on one channel, then awaits their confirms together.

        Each message's outcome, in order: None once confirmed,
        :class:`BrokerRefusedError` for a nack, a return or a channel closed
        over it, anything else when it was not confirmed within
        ``confirm_timeout`` of the window's start or the connection failed.
        RabbitMQ routes a channel's messages in the order it received them,
        and aiormq writes them in the order their publishes were begun (under
        its channel lock, which hands over first come, first served).

        The same message as :meth:`publish` sends (FastStream builds that one
        from the same fields), handed to aiormq's ``basic_publish`` directly:
        without aio-pika's message object, and without waiting for each
        message's bytes to be flushed to the socket before the next.
        """
        if not messages:
            return []
        try:
            async with asyncio.timeout(self.confirm_timeout):
                await self._declare()
                exchange = await self.broker.declare_exchange(self._exchange)
                # aio-pika's robust channel is over aiormq's concrete one,
                # whose basic_publish takes ``wait``.
                channel = cast(aiormq.Channel, await exchange.channel.get_underlay_channel())
        except Exception as exc:  # noqa: BLE001 - every message's outcome: not sent
            self._declared = False
            return [exc] * len(messages)
        app_id = self.broker.config.app_id
        timestamp = datetime.now(UTC)
        sends = [
            asyncio.create_task(
                _confirmed(
                    channel,
                    self._exchange.name,
                    message,
                    aiormq.spec.Basic.Properties(
                        content_type=CONTENT_TYPE,
                        delivery_mode=PERSISTENT,
                        correlation_id=message.headers.get(CORRELATION_HEADER),
                        headers=dict(message.headers),
                        message_id=message.message_id,
                        timestamp=timestamp,
                        message_type=message.routing_key,
                        app_id=app_id,
                    ),
                )
            )
            for message in messages
        ]
        try:
            _, late = await asyncio.wait(sends, timeout=self.confirm_timeout)
        finally:
            # Cancelled too when the relay is: no publish outlives its window.
            for send in sends:
                send.cancel()
        if late:
            await asyncio.wait(late)
        outcomes = [
            TimeoutError(f"{message.message_id}: no confirm within {self.confirm_timeout}s")
            if send in late
            else _outcome(message, send)
            for send, message in zip(sends, messages, strict=True)
        ]
        if any(outcome is not None for outcome in outcomes):
            # As for one publish: the next window declares the topology again.
            self._declared = False
        return outcomes

    async def _publish_refusable(
        self, routing_key: str, body: dict[str, Any], *, message_id: str, headers: dict[str, str]
    ) -> object:
        amqp_headers: HeadersType = dict(headers)
        try:
            return await self.broker.publish(
                encode(body),
                exchange=self._exchange,
                routing_key=routing_key,
                # Routed to the alternate exchange when no queue is bound,
                # so a return means even that failed: not published.
                mandatory=True,
                persist=True,
                timeout=self.confirm_timeout,
                message_id=message_id,
                correlation_id=headers.get(CORRELATION_HEADER),
                headers=amqp_headers,
                content_type=CONTENT_TYPE,
                message_type=routing_key,
            )
        except Exception as exc:
            if _refused(exc):
                raise BrokerRefusedError(f"{routing_key} {message_id}: {exc!r}") from exc
            raise


async def _confirmed(
    channel: aiormq.Channel,
    exchange: str,
    message: OutgoingMessage,
    properties: aiormq.spec.Basic.Properties,
) -> None:
    result = await channel.basic_publish(
        encode(message.body),
        exchange=exchange,
        routing_key=message.routing_key,
        properties=properties,
        # Routed to the alternate exchange when no queue is bound, so a
        # return means even that failed: not published.
        mandatory=True,
        # Queued for the connection's writer in order; the confirm is what counts.
        wait=False,
    )
    if not isinstance(result, aiormq.spec.Basic.Ack):
        raise BrokerRefusedError(f"{message.routing_key} {message.message_id}: {result!r}")


def _outcome(message: OutgoingMessage, send: asyncio.Task[None]) -> Exception | None:
    """A finished publish's outcome, as :meth:`EventPublisher.publish_many` gives it."""
    if send.cancelled():
        # Not by us (the window's late ones are told apart before): aiormq
        # cancels what waits on a channel that closes.
        return ConnectionError(f"{message.message_id}: publish cancelled, channel closed")
    error = send.exception()
    if error is None or isinstance(error, BrokerRefusedError):
        return error
    if _refused(error):
        refusal = BrokerRefusedError(f"{message.routing_key} {message.message_id}: {error!r}")
        refusal.__cause__ = error
        return refusal
    if isinstance(error, Exception):
        return error
    return RuntimeError(f"{message.message_id}: publish ended with {error!r}")


# --- consuming ----------------------------------------------------------------

DEPENDENCY_RETRY_DELAY_CAP = 10.0
"""Longest pause between two attempts of a handler waiting for a dependency.

Bounds how long after a server's return the held deliveries notice it (the
first success opens the gate and wakes the others at once)."""
HELD_DELIVERY_RELEASE_SECONDS = 20 * 60.0
"""How long a delivery is held while its handler waits for a dependency before
it is released: a copy published to the tail of its queue, the original
acknowledged. Below RabbitMQ's ``consumer_timeout`` (30 min by default), past
which RabbitMQ would close the channel and return the message with its
delivery count raised (``DELIVERY_LIMIT`` of them dead-letter it): a release
does not count, so no outage is long enough to dead-letter an event."""
_SHUTDOWN_CHECK_SECONDS = 0.5
_RELEASE_CONFIRM_SECONDS = 5.0


class _Outcome(enum.Enum):
    HANDLED = "handled"
    FAILED = "failed"
    """Every attempt failed for a reason other than an outage: dead-letter it."""
    RELEASED = "released"
    """Held too long during an outage: a copy is back in the queue, this one acknowledged."""
    ABANDONED = "abandoned"
    """The consumer stops during an outage: left unsettled, RabbitMQ gives it back."""


@dataclass(frozen=True)
class _Consumer(Generic[P]):
    """One subscription: where it reads, what it runs, how it retries."""

    broker: RabbitBroker
    subscriber: RabbitSubscriber
    queue: str
    label: str
    """The queue without the environment's prefix: the same series in every deployment."""
    envelope_type: type[Envelope[P]]
    handler: Callable[[Envelope[P]], Awaitable[None]]
    max_attempts: int
    base_delay: float
    release_after: float
    gate: DependencyGate
    workers: asyncio.Semaphore | None
    """Slots for handlers running at once; None: as many as were prefetched."""

    def consuming(self) -> bool:
        return self.subscriber.running


async def _undecoded(message: StreamMessage[Any]) -> StreamMessage[Any]:
    # The handler gets the delivery itself, body untouched: a body that is not
    # even JSON must reach our validation (and the dead-letter queue), not fail
    # in FastStream before the handler where nobody would settle it. Handing it
    # over as the "decoded" argument takes the place of FastDepends' injection
    # (off: see create_broker). A coroutine function: FastStream runs a plain
    # one in a worker thread, a thread hop per delivery.
    return message


async def _handle(message: RabbitMessage, consumer: _Consumer[P]) -> None:
    """Settles one delivery, measured and traced, once a worker slot is free."""
    # RabbitMQ's consumer_timeout counts from the delivery, not from when a
    # slot freed up: so does the release of a delivery held in an outage.
    arrived = time.monotonic()
    if consumer.workers is None:
        await _handle_now(message, consumer, arrived)
        return
    async with consumer.workers:
        if not consumer.consuming():
            # Stopping: one not begun is left unsettled, and RabbitMQ gives it
            # back when the channel closes, instead of using the grace period.
            log.debug(
                "delivery %s on %s left for after the stop", message.message_id, consumer.queue
            )
            return
        await _handle_now(message, consumer, arrived)


async def _handle_now(message: RabbitMessage, consumer: _Consumer[P], arrived: float) -> None:
    started = time.perf_counter()
    label = consumer.label
    if message.raw_message.redelivered:
        CONSUMER_REDELIVERED.labels(label).inc()
    try:
        with tracing.consumer_span(
            f"process {label}",
            message.headers,
            {"messaging.destination.name": label, "messaging.message.id": str(message.message_id)},
        ):
            await _settle(message, consumer, arrived)
    finally:
        CONSUMER_DURATION.labels(label).observe(time.perf_counter() - started)


async def _settle(message: RabbitMessage, consumer: _Consumer[P], arrived: float) -> None:
    queue, label = consumer.queue, consumer.label
    supplied = message.headers.get(CORRELATION_HEADER) or message.correlation_id
    token = correlation.correlation_id.set(str(supplied) if supplied else None)
    try:
        if len(message.body) > MAX_EVENT_BYTES:
            log.error(
                "message %s on %s has %d bytes, more than %d; dead-lettered unread",
                message.message_id,
                queue,
                len(message.body),
                MAX_EVENT_BYTES,
            )
            CONSUMER_DEAD_LETTERED.labels(label, "oversized").inc()
            await message.reject(requeue=False)
            return
        try:
            envelope = consumer.envelope_type.model_validate_json(message.body)
        except ValidationError as exc:
            # The validation errors say what is wrong; a traceback would add nothing.
            log.error(
                "message %s on %s is not a valid %s; dead-lettered: %s",
                message.message_id,
                queue,
                consumer.envelope_type.__name__,
                exc,
            )
            CONSUMER_DEAD_LETTERED.labels(label, "invalid").inc()
            await message.reject(requeue=False)
            return
        if not supplied:
            correlation.correlation_id.set(envelope.correlation_id)

        async def release() -> None:
            await _release(message, consumer)

        with consumer.gate.holding():
            outcome = await _run_handler(envelope, consumer, release, arrived)
        if outcome is _Outcome.HANDLED:
            await message.ack()
            CONSUMER_HANDLED.labels(label).inc()
            lag = (datetime.now(UTC) - envelope.occurred_at).total_seconds()
            CONSUMER_LAG.labels(label).observe(max(0.0, lag))
        elif outcome is _Outcome.FAILED:
            CONSUMER_DEAD_LETTERED.labels(label, "failed").inc()
            await message.reject(requeue=False)
    finally:
        correlation.correlation_id.reset(token)


async def _run_handler(
    envelope: Envelope[P],
    consumer: _Consumer[P],
    release: Callable[[], Awaitable[None]],
    arrived: float,
) -> _Outcome:
    """Runs the handler until it succeeds, fails for good, or its delivery is released.

    A failure of a dependency (:func:`dependency_unavailable`) is waited out
    for as long as it lasts, the gate pausing every consumer of the process
    meanwhile, and never counts toward ``max_attempts``; any other failure is
    retried with back-off up to ``max_attempts`` times.
    """
    queue, label = consumer.queue, consumer.label
    failures = 0
    with contextlib.ExitStack() as waiting:
        outage: _Outage | None = None
        while True:
            try:
                await consumer.handler(envelope)
            except Exception as exc:  # classified below: waited out, or retried then dead-lettered
                if dependency_unavailable(exc):
                    if outage is None:
                        # Counted as waiting from the first such failure to the
                        # end, retries included.
                        waiting.enter_context(CONSUMER_WAITING.labels(label).track_inprogress())
                        outage = _Outage(consumer.base_delay, held_since=arrived)
                    outcome = await _wait_out(exc, envelope, consumer, outage, release)
                    if outcome is not None:
                        return outcome
                    continue
                failures += 1
                CONSUMER_FAILURES.labels(label).inc()
                if failures >= consumer.max_attempts:
                    log.exception(
                        "event %s (%s) failed %d times on %s; dead-lettered",
                        envelope.id,
                        envelope.type,
                        failures,
                        queue,
                    )
                    return _Outcome.FAILED
                delay = min(RETRY_DELAY_CAP, consumer.base_delay * 2 ** (failures - 1))
                log.warning(
                    "event %s (%s) failed on %s (attempt %d of %d); retrying in %.2fs",
                    envelope.id,
                    envelope.type,
                    queue,
                    failures,
                    consumer.max_attempts,
                    delay,
                    exc_info=True,
                )
                await asyncio.sleep(delay)
            else:
                consumer.gate.available()
                return _Outcome.HANDLED


@dataclass
class _Outage:
    """One delivery's wait for a dependency: its next back-off, since when it is held."""

    delay: float
    held_since: float
    """Since the delivery arrived, then since its last failed release."""


async def _wait_out(
    exc: Exception,
    envelope: Envelope[P],
    consumer: _Consumer[P],
    outage: _Outage,
    release: Callable[[], Awaitable[None]],
) -> _Outcome | None:
    """One pause of a delivery waiting for a dependency; None: try the handler again."""
    queue = consumer.queue
    CONSUMER_DEPENDENCY_FAILURES.labels(consumer.label).inc()
    if not transaction_conflict(exc):
        # A lost race (serialization failure, deadlock) is no outage: retried
        # like one, but the other consumers go on.
        consumer.gate.unavailable(exc, queue=queue)
    log.debug("event %s on %s waits for a dependency: %r", envelope.id, queue, exc)
    if time.monotonic() - outage.held_since >= consumer.release_after:
        if await _released(envelope, consumer, release):
            return _Outcome.RELEASED
        outage.held_since = time.monotonic()
    # Jitter: the deliveries held by every replica do not all knock on the
    # returning server at the same instant.
    pause = outage.delay * random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
    outage.delay = min(DEPENDENCY_RETRY_DELAY_CAP, outage.delay * 2)
    if not await _wait_for_gate(consumer, pause):
        log.warning(
            "event %s (%s) left unsettled on %s: stopping during an outage",
            envelope.id,
            envelope.type,
            queue,
        )
        return _Outcome.ABANDONED
    return None


async def _released(
    envelope: Envelope[P], consumer: _Consumer[P], release: Callable[[], Awaitable[None]]
) -> bool:
    try:
        await release()
    except Exception as exc:  # noqa: BLE001 - RabbitMQ away too: hold on, try again later
        log.warning(
            "could not release event %s held on %s during an outage: %r",
            envelope.id,
            consumer.queue,
            exc,
        )
        return False
    CONSUMER_RELEASED.labels(consumer.label).inc()
    log.info(
        "event %s (%s) held on %s for %.0fs during an outage; released to the queue's tail",
        envelope.id,
        envelope.type,
        consumer.queue,
        consumer.release_after,
    )
    return True


async def _release(message: RabbitMessage, consumer: _Consumer[Any]) -> None:
    """Publishes a copy of ``message`` to its queue, confirmed, then acknowledges it.

    A copy is a new message to RabbitMQ: no delivery counted. Should the ack
    not happen (a crash in between), both are delivered and the inbox makes
    the second do nothing.
    """
    raw = message.raw_message
    result = await consumer.broker.publish(
        raw.body,
        routing_key=consumer.queue,  # through the default exchange: this queue only
        mandatory=True,
        persist=True,
        timeout=_RELEASE_CONFIRM_SECONDS,
        message_id=raw.message_id,
        correlation_id=raw.correlation_id,
        headers=raw.headers,
        content_type=raw.content_type,
        content_encoding=raw.content_encoding,
        timestamp=raw.timestamp,
        message_type=raw.type,
    )
    if not isinstance(result, aiormq.spec.Basic.Ack):
        raise PublishNotConfirmedError(
            f"release of {raw.message_id} to {consumer.queue}: {result!r}"
        )
    await message.ack()


async def _wait_for_gate(consumer: _Consumer[Any], pause: float) -> bool:
    """Waits ``pause`` seconds, less if the gate opens; False if the consumer stops meanwhile.

    Checked in short slices so that a shutdown during an outage is not held up
    by a held delivery's back-off (the broker gives handlers a grace period).
    """
    deadline = time.monotonic() + pause
    while (remaining := deadline - time.monotonic()) > 0:
        if not consumer.consuming():
            return False
        if await consumer.gate.wait_open(min(remaining, _SHUTDOWN_CHECK_SECONDS)):
            return True
    return consumer.consuming()


def subscribe(
    broker: RabbitBroker,
    settings: ServiceSettings,
    *,
    service: str,
    purpose: str,
    payload_type: type[P],
    handler: Callable[[Envelope[P]], Awaitable[None]],
    max_attempts: int = 5,
    base_delay: float = 0.2,
    prefetch: int | None = None,
    max_workers: int | None = None,
    release_after: float = HELD_DELIVERY_RELEASE_SECONDS,
) -> None:
    """Consumes ``payload_type`` events from the queue ``<prefix><service>.<purpose>``.

    ``handler`` gets the parsed envelope with the event's correlation id in
    :data:`wishlist_shared.correlation.correlation_id`; it should claim the
    event in its inbox in the transaction that applies the effect. Call before
    the broker starts.

    ``max_workers`` handlers run at once at most (None: one per prefetched
    delivery, :data:`DEFAULT_PREFETCH` of them unless ``prefetch`` says
    otherwise); ``prefetch``, the deliveries RabbitMQ entrusts to this
    consumer unacked, defaults to ``max(DEFAULT_PREFETCH, max_workers)`` and
    may not be fewer than ``max_workers``: a slot with no delivery to take is
    wasted.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if prefetch is None:
        prefetch = max(DEFAULT_PREFETCH, max_workers or 0)
    if max_workers is not None and prefetch < max_workers:
        raise ValueError(f"prefetch ({prefetch}) must be at least max_workers ({max_workers})")
    queue = queue_name(settings, service=service, purpose=purpose)
    # A subscriber without a handler only declares: the dead-letter queue and
    # its binding exist from the start (registered first, so before the main
    # queue can dead-letter anything into a void), and an operator sees it.
    broker.subscriber(
        RabbitQueue(
            dead_letter_queue_name(queue),
            QueueType.QUORUM,
            routing_key=queue,
            arguments=_expiry(settings),
        ),
        dead_letter_exchange(settings),
        include_in_schema=False,
    )
    arguments: QuorumQueueArgs = {
        "x-dead-letter-exchange": dead_letter_exchange(settings).name,
        "x-dead-letter-routing-key": queue,
        # RabbitMQ keeps a dead-lettered message until the dead-letter queue
        # confirmed it (which requires reject-publish overflow).
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": DELIVERY_LIMIT,
    }
    arguments.update(_expiry(settings))
    subscriber = broker.subscriber(
        RabbitQueue(
            queue, QueueType.QUORUM, routing_key=payload_type.routing_key, arguments=arguments
        ),
        events_exchange(settings),
        channel=Channel(prefetch_count=prefetch),
        ack_policy=AckPolicy.MANUAL,
        decoder=_undecoded,
        no_reply=True,
        title=queue,
        description=f"{payload_type.routing_key} events for {service} ({purpose})",
    )
    gate = gate_of(broker)
    gate.add(subscriber)
    consumer = _Consumer(
        broker=broker,
        subscriber=subscriber,
        queue=queue,
        label=f"{service}.{purpose}",
        # Parametrised with the concrete class at run time: Envelope[P] would
        # validate the payload as the bare base class and drop its fields. mypy
        # cannot express "the type held by this variable" as a type argument.
        envelope_type=Envelope[payload_type],  # type: ignore[valid-type]
        handler=handler,
        max_attempts=max_attempts,
        base_delay=base_delay,
        release_after=release_after,
        gate=gate,
        workers=None if max_workers is None else asyncio.Semaphore(max_workers),
    )

    async def consume(message: RabbitMessage) -> None:
        # The delivery, as _undecoded hands it over.
        await _handle(message, consumer)

    consume.__name__ = f"consume_{purpose}"
    subscriber(consume)
