"""The transactional outbox: events saved with the change that caused them, then relayed.

A service calls :func:`add_event` inside its business transaction; the event is a
row of its schema's ``outbox`` table (:func:`outbox_table`) and exists exactly when
the change does. :class:`OutboxRelay` publishes pending rows to RabbitMQ in order
of ``id`` with publisher confirms and marks them published in the transaction that
locked them; it never drops a row. A batch goes out as one window when the
publisher can (:class:`WindowPublisher`): every row sent in order without
waiting, then the answers awaited together; rows are marked published up to the
first one that failed or was refused and none after it, even if confirmed (they
go out again with the next batch, behind it). A failure to reach the destination (not
connected, connection lost, no confirm in time) is retried for as long as it
lasts; a message the destination refuses for a reason of its own
(:class:`PublishRefusedError`: RabbitMQ nacked or returned it, or closed the
channel over it; Redis answered with an error) is retried too, but a row refused
:data:`PARK_AFTER_REFUSALS` times is *parked*: set aside with its error, so the
rows after it flow on. ``python -m wishlist_shared.deliveries`` shows parked
rows and re-drives them once their cause is fixed.

Delivery is at least once: a relay that dies after RabbitMQ confirmed a message
but before its transaction committed publishes it again. Consumers deduplicate on
the envelope's ``id`` (see :mod:`wishlist_shared.inbox`).

Observability: the relay samples the backlog (pending rows, age of the
oldest, parked rows) every few seconds into :mod:`wishlist_shared.metrics`, so a scrape
never queries the database; and a row carries the trace context of the
transaction that wrote it (:mod:`wishlist_shared.tracing`).

Order is the order of ``id`` among committed rows: the events of one transaction
go out in the order they were added. Two transactions that commit concurrently may
commit in the opposite order to the ids they drew, so there is no global order
across them, and consumers must not need one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import asyncpg
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Interval,
    MetaData,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.selectable import CTE

from wishlist_shared import correlation, tracing
from wishlist_shared.events import (
    MAX_EVENT_BYTES,
    Envelope,
    EventPayload,
    EventTooLargeError,
    dump,
    encode,
)
from wishlist_shared.metrics import (
    OUTBOX_DELAY,
    OUTBOX_FAILURES,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PARKED,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
)

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"
"""Message header that carries the correlation id from the outbox to the consumer."""

PENDING = "pending"
PUBLISHED = "published"
PARKED = "parked"
"""Refused by the destination too often: kept aside until an operator re-drives it."""
PARK_AFTER_REFUSALS = 5
"""Refusals of one row (counted on the row, outages between them not counting) that park it."""

DEFAULT_BATCH_SIZE = 1000
"""Rows a relay transaction takes, and so publishes as one window.

A batch's own cost (its transaction: BEGIN, the claim that locks and marks its
rows, the COMMIT's flush; a separate UPDATE too when measured below) is paid
once for all its rows. With 100 rows it took about as long as publishing them (measured on a
loaded 2-core machine, 2026-12-07: the bench's relay ran at 0.54x a bare
publisher streaming windows of 100, 0.71x with 500, 0.91x with 1000). A larger
window costs more duplicates after a failure in it, and nothing while events
arrive fewer at a time (a batch is what is pending)."""

# Bounded exponential back-off of the relay after a failure (broker or database
# down): quick enough to resume within a second or two of recovery, slow enough
# not to hammer a server that is restarting.
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 5.0
# How often published rows past their retention are deleted, and how often the
# idle LISTEN connection is checked (a silently dead TCP connection gets no
# termination callback).
_PURGE_EVERY = 600.0
_LISTENER_CHECK_EVERY = 30.0
_LAST_ERROR_MAX = 2000
# How often the relay counts its backlog for the metrics: cheap (the pending
# rows' partial index) and independent of how often Prometheus scrapes.
_SAMPLE_EVERY = 5.0


class PublishRefusedError(Exception):
    """The destination answered "no" to this very message; a publisher raises it for that only.

    Sending the same message again is unlikely to help (too large, rejected by a
    full queue, unroutable, refused by Redis), unlike a failure to reach the
    destination at all, which any other exception stands for.
    """


class Publisher(Protocol):
    """What the relay publishes through; :class:`wishlist_shared.messaging.EventPublisher`.

    Raises :class:`PublishRefusedError` when the destination refuses the
    message, anything else when it could not be reached.
    """

    async def publish(
        self,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, str],
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One row as a publisher sends it."""

    routing_key: str
    body: dict[str, Any]
    message_id: str
    headers: dict[str, str]


@runtime_checkable
class WindowPublisher(Publisher, Protocol):
    """A publisher that sends a batch without waiting between messages, then awaits the answers."""

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Exception | None]:
        """Sends ``messages`` in order, then returns each one's outcome, in the same order.

        None: confirmed. :class:`PublishRefusedError`: the destination refused
        that message. Any other exception: it could not be confirmed (not
        sent, connection lost, no answer in time). Never raises for a
        message's failure; every message gets an outcome.
        """
        ...


def outbox_table(metadata: MetaData) -> Table:
    """The ``outbox`` table in ``metadata.schema``; migrations create the same shape by hand."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("routing_key", Text, nullable=False),
        Column("body", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'")),
        Column("state", Text, nullable=False, server_default=text(f"'{PENDING}'")),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # Refusals since the row was (last made) pending; PARK_AFTER_REFUSALS parks it.
        Column("refusals", Integer, nullable=False, server_default=text("0")),
        Column("parked_at", DateTime(timezone=True), nullable=True),
        # Named as PostgreSQL names an inline CHECK, so a hand-written migration matches.
        CheckConstraint(
            f"state IN ('{PENDING}', '{PUBLISHED}', '{PARKED}')", name="outbox_state_check"
        ),
        Index("ix_outbox_pending", "id", postgresql_where=text(f"state = '{PENDING}'")),
        # Parked rows are few and counted every few seconds for the metrics.
        Index("ix_outbox_parked", "id", postgresql_where=text(f"state = '{PARKED}'")),
    )


def _schema(table: Table) -> str:
    return table.schema or "public"


def notify_channel(table: Table) -> str:
    """The LISTEN/NOTIFY channel on which writers wake the relay of ``table``'s schema."""
    return f"outbox_{_schema(table)}"


@dataclass(frozen=True, slots=True)
class NewEvents:
    """Events to add, each serialised once: the bytes measured are the bytes stored."""

    envelopes: list[Envelope[Any]]
    params: dict[str, Any]
    """The parameters of :func:`events_cte`'s statement."""


def new_events(payloads: Sequence[EventPayload]) -> NewEvents:
    """``payloads`` wrapped in envelopes and serialised, to be saved by :func:`events_cte`.

    Raises :class:`~wishlist_shared.events.EventTooLargeError` for an envelope
    over :data:`~wishlist_shared.events.MAX_EVENT_BYTES`: no consumer would read
    it, so it must never be committed; its publisher has to split it.
    """
    envelopes: list[Envelope[Any]] = [Envelope.wrap(p) for p in payloads]
    bodies = [encode(dump(e)) for e in envelopes]
    for payload, body in zip(payloads, bodies, strict=True):
        if len(body) > MAX_EVENT_BYTES:
            size = len(body)
            raise EventTooLargeError(
                f"{payload.routing_key} event of {size} bytes, over {MAX_EVENT_BYTES}: split it"
            )
    # The trace context too: the relay's span, and so the consumer's,
    # continues the trace of the request that caused the event.
    context = tracing.current_context_headers()
    return NewEvents(
        envelopes,
        {
            "outbox_event_ids": [e.id for e in envelopes],
            "outbox_routing_keys": [p.routing_key for p in payloads],
            "outbox_bodies": [b.decode() for b in bodies],
            "outbox_headers": [
                json.dumps({CORRELATION_HEADER: e.correlation_id, **context}) for e in envelopes
            ],
        },
    )


@functools.cache
def events_cte(table: Table) -> CTE:
    """An INSERT of :class:`NewEvents` into ``table`` as a CTE, to run with another statement.

    Built once per table: every business transaction runs it. The rows are
    inserted in the order given, which is the order of their ids (see the
    module's note on order). The caller's statement must :meth:`add_cte` it
    and run :func:`notify` after it, in it or later in the transaction.
    """
    rows = (
        func.unnest(
            bindparam("outbox_event_ids", type_=ARRAY(UUID(as_uuid=True))),
            bindparam("outbox_routing_keys", type_=ARRAY(Text)),
            bindparam("outbox_bodies", type_=ARRAY(Text)),
            bindparam("outbox_headers", type_=ARRAY(Text)),
        )
        .table_valued("event_id", "routing_key", "body", "headers", with_ordinality="n")
        .render_derived("new_events")
    )
    adding = table.insert().from_select(
        ["event_id", "routing_key", "body", "headers"],
        select(
            rows.c.event_id,
            rows.c.routing_key,
            # Sent as the text already measured, parsed once by PostgreSQL.
            cast(rows.c.body, JSONB),
            cast(rows.c.headers, JSONB),
        ).order_by(rows.c.n),
    )
    return adding.cte(f"added_to_{_schema(table)}_outbox")


def notify(table: Table) -> Any:
    """The wake-up of ``table``'s relay, as a column of a statement.

    A constant payload lets PostgreSQL fold the notifications of one
    transaction into one: a relay needs one wake-up, not one per event. The
    NOTIFY is delivered at commit (and not at all on rollback), so relays wake
    exactly when there is something to publish.
    """
    return func.pg_notify(notify_channel(table), "").label("outbox_notified")


@functools.cache
def _adding_events(table: Table) -> Any:
    return select(notify(table)).add_cte(events_cte(table))


async def add_events(
    session: AsyncSession, table: Table, payloads: Sequence[EventPayload]
) -> list[Envelope[Any]]:
    """Saves ``payloads`` as pending events in the caller's transaction, in this order, and
    wakes the relay: one statement. The events exist if and only if the transaction commits.

    Raises :class:`~wishlist_shared.events.EventTooLargeError` as :func:`new_events`.
    """
    events = new_events(payloads)
    # Core, not the ORM's execute: there is nothing to flush or load.
    await (await session.connection()).execute(_adding_events(table), events.params)
    return events.envelopes


async def add_event(session: AsyncSession, table: Table, payload: EventPayload) -> Envelope[Any]:
    """Saves ``payload`` as a pending event in the caller's transaction; returns its envelope.

    As :func:`add_events` for one event.
    """
    [envelope] = await add_events(session, table, [payload])
    return envelope


def _set_event(event: asyncio.Event, *_: object) -> None:
    event.set()


def _backoff(failures: int) -> float:
    return float(min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (failures - 1)))


def _listener_dsn(engine: AsyncEngine) -> str:
    # asyncpg takes the libpq form of the engine's URL (no "+asyncpg").
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _parks(row: Any, error: Exception) -> bool:
    """Whether ``error`` is the refusal that parks ``row``."""
    return isinstance(error, PublishRefusedError) and row.refusals + 1 >= PARK_AFTER_REFUSALS


class _NotSentError(Exception):
    """The outcome of a row behind a failure when publishing one at a time."""


_NOT_SENT = _NotSentError("not sent: a row before it failed")


@contextlib.contextmanager
def _producer_span(message: OutgoingMessage) -> Iterator[None]:
    # Pushes' keys end in a user id ("notifications:<id>"): a span name
    # must name the kind of destination, not the recipient.
    destination = message.routing_key.split(":", 1)[0]
    with tracing.producer_span(
        f"publish {destination}",
        message.headers,
        {"messaging.destination.name": destination, "messaging.message.id": message.message_id},
    ):
        yield


def _claiming(table: Table, batch_size: int) -> Any:
    """The next pending rows, locked and marked published, if this relay gets the schema's
    lock; each as it was before (:meth:`OutboxRelay.relay_once` sets back those that fail)."""
    t = table.c
    # The transaction-level lock ends with the transaction, so a relay that
    # dies mid-batch can never leave it held. Taken in the same statement (an
    # InitPlan, run once): a row is locked and returned only when the lock
    # was had; none when another relay has it.
    locked = select(
        func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("lock_key", type_=Text), 0))
    ).scalar_subquery()
    claimed = (
        select(
            t.id,
            t.event_id,
            t.routing_key,
            t.body,
            t.headers,
            t.created_at,
            t.refusals,
            t.last_error,
        )
        .where(t.state == PENDING, locked)
        .order_by(t.id)
        .limit(batch_size)
        .with_for_update()
        .cte("claimed")
    )
    return (
        update(table)
        .where(t.id == claimed.c.id)
        .values(state=PUBLISHED, published_at=func.now(), attempts=t.attempts + 1, last_error=None)
        .returning(*claimed.c)
    )


def _setting_back(table: Table) -> Any:
    """Claimed rows that were not published, pending again as they were before the claim."""
    t = table.c
    before = (
        func.unnest(
            bindparam("ids", type_=ARRAY(BigInteger)), bindparam("errors", type_=ARRAY(Text))
        )
        .table_valued("id", "last_error")
        .render_derived("before")
    )
    return (
        update(table)
        .where(t.id == before.c.id)
        .values(
            state=PENDING,
            published_at=None,
            attempts=t.attempts - 1,
            last_error=before.c.last_error,
        )
    )


class OutboxRelay:
    """Publishes the pending rows of one schema's outbox; run one per service replica.

    Replicas coordinate through a transaction-level advisory lock keyed on the
    schema: exactly one publishes at a time, so rows leave in ``id`` order; the
    others wait for the next wake-up and take over if the holder dies.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        publisher: Publisher,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.engine = engine
        self.table = table
        self.publisher = publisher
        # Checked once: a runtime protocol check is slow, the publisher fixed.
        self._window = publisher if isinstance(publisher, WindowPublisher) else None
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.channel = notify_channel(table)
        self._lock_key = f"outbox:{_schema(table)}"
        self._label = _schema(table)
        # Built once: a relay runs them for every batch, and under a steady
        # trickle of events a batch is one row, so building them cost as much
        # as running them.
        self._claim = _claiming(table, batch_size)
        self._set_back = _setting_back(table)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Starts relaying in the background: a LISTEN connection and the publishing loop."""
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._listen(), name=f"{self.channel}-listener"),
            asyncio.create_task(self._run(), name=f"{self.channel}-relay"),
        ]

    async def stop(self, timeout: float = 10.0) -> None:
        """Stops relaying once the batch being published is published and marked.

        Pending rows stay for the next relay (another replica's, or this one's
        after a restart). A batch still unfinished after ``timeout`` (RabbitMQ
        stopped confirming) is cancelled: its transaction rolls back and its
        rows go out again later, which the consumers' inboxes absorb.
        """
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        self._stopping.set()
        self._wake.set()
        listener, relay = tasks
        listener.cancel()
        await asyncio.wait({relay}, timeout=timeout)
        relay.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def relay_once(self) -> int:
        """Publishes up to ``batch_size`` pending rows in ``id`` order; returns how many.

        Returns 0 at once when another relay holds the schema's lock. The rows
        go out as one window when the publisher has one. When a publish fails,
        the rows confirmed before it are still marked published, the failing
        row records the error, and the error is raised; the rows after it stay
        pending even if they were sent and confirmed, so nothing overtakes it
        (at least once: they are sent again, and consumers deduplicate). A
        refusal that parks its row does not end the batch: the rows after it
        count as they were answered.
        """
        t = self.table.c
        published: list[int] = []
        created: list[datetime] = []
        parked: list[tuple[int, str]] = []
        failure: tuple[int, Exception] | None = None
        async with self.engine.connect() as conn, conn.begin():
            # Claimed and marked published in one statement, as most batches
            # end: the rows that end otherwise are set so below, in the same
            # transaction, so no one else ever sees them marked.
            claimed = await conn.execute(self._claim, {"lock_key": self._lock_key})
            rows = sorted(claimed.all(), key=lambda r: r.id)
            outcomes = await self._publish_rows(rows) if rows else []
            unsent: Sequence[Any] = ()
            for index, (row, error) in enumerate(zip(rows, outcomes, strict=True)):
                if error is None:
                    published.append(row.id)
                    created.append(row.created_at)
                    continue
                if _parks(row, error):
                    # Set aside: the rows behind it count as they were answered.
                    parked.append((row.id, repr(error)[:_LAST_ERROR_MAX]))
                    self._log_failure(row, error, parked=True)
                    continue
                # Nothing after the first failure counts, whatever its answer:
                # those rows go out again behind it, so none overtakes it.
                failure = (row.id, error)
                self._log_failure(row, error, parked=False)
                unsent = rows[index + 1 :]
                break
            if unsent:
                await conn.execute(
                    self._set_back,
                    {"ids": [r.id for r in unsent], "errors": [r.last_error for r in unsent]},
                )
            # The claim counted their attempt already.
            for parked_id, error_text in parked:
                await conn.execute(
                    update(self.table)
                    .where(t.id == parked_id)
                    .values(
                        state=PARKED,
                        published_at=None,
                        parked_at=func.now(),
                        refusals=t.refusals + 1,
                        last_error=error_text,
                    )
                )
            if failure is not None:
                failed_id, error = failure
                refused = isinstance(error, PublishRefusedError)
                await conn.execute(
                    update(self.table)
                    .where(t.id == failed_id)
                    .values(
                        state=PENDING,
                        published_at=None,
                        # An outage says nothing about the message: it neither
                        # counts towards parking nor wipes the refusals so far.
                        refusals=t.refusals + 1 if refused else t.refusals,
                        last_error=repr(error)[:_LAST_ERROR_MAX],
                    )
                )
        # Counted once the transaction committed: only then are they published for good.
        OUTBOX_PUBLISHED.labels(self._label).inc(len(published))
        now = datetime.now(UTC)
        for created_at in created:
            OUTBOX_DELAY.labels(self._label).observe(max(0.0, (now - created_at).total_seconds()))
        if failure is not None:
            raise failure[1]
        return len(published)

    async def sample(self) -> None:
        """Sets the backlog gauges: rows pending, the oldest one's age, rows parked."""
        t = self.table.c
        async with self.engine.connect() as conn:
            count, age = (
                await conn.execute(
                    select(
                        func.count(),
                        # Ages by the database's clock, which wrote created_at.
                        func.extract("epoch", func.now() - func.min(t.created_at)),
                    ).where(t.state == PENDING)
                )
            ).one()
            parked = await conn.scalar(select(func.count()).where(t.state == PARKED))
        OUTBOX_PENDING.labels(self._label).set(count)
        OUTBOX_PARKED.labels(self._label).set(parked or 0)
        OUTBOX_OLDEST_AGE.labels(self._label).set(max(0.0, float(age or 0)))

    async def _sample_quietly(self) -> None:
        try:
            await self.sample()
        except Exception as exc:  # noqa: BLE001 - the gauges keep their last value; relay goes on
            log.debug("sampling the outbox of %s failed: %r", self._label, exc)

    async def purge(self) -> int:
        """Deletes published rows older than ``retention``; returns how many."""
        t = self.table.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(self.table).where(
                    t.state == PUBLISHED,
                    t.published_at < func.now() - bindparam("age", self.retention, Interval()),
                )
            )
        return int(result.rowcount)

    async def _publish_rows(self, rows: Sequence[Any]) -> list[Exception | None]:
        """Publishes ``rows`` in order; each one's outcome, as :meth:`WindowPublisher.publish_many`.

        One window when the publisher has one; else one at a time, stopping at
        the first failure but for a refusal that parks its row, as a window's
        outcomes are read. Every row gets an outcome.
        """
        messages = [
            OutgoingMessage(
                routing_key=row.routing_key,
                body=row.body,
                message_id=str(row.event_id),
                # Written by add_event as text already; str() for rows written otherwise.
                headers={str(k): str(v) for k, v in row.headers.items()},
            )
            for row in rows
        ]
        if not tracing.enabled():
            return await self._publish_messages(rows, messages)
        # A span per row, from its send to its answer; each puts itself in its
        # row's headers, so the consumer's span continues it.
        spans = [_producer_span(message) for message in messages]
        for span in spans:
            span.__enter__()
        outcomes: list[Exception | None] = []
        try:
            outcomes = await self._publish_messages(rows, messages)
        finally:
            # Closed last opened first, as the context each one made current requires.
            for span, outcome in reversed(list(itertools.zip_longest(spans, outcomes))):
                if isinstance(outcome, Exception) and outcome is not _NOT_SENT:
                    with contextlib.suppress(Exception):
                        span.__exit__(type(outcome), outcome, outcome.__traceback__)
                else:
                    span.__exit__(None, None, None)
        return outcomes

    async def _publish_messages(
        self, rows: Sequence[Any], messages: Sequence[OutgoingMessage]
    ) -> list[Exception | None]:
        if self._window is not None:
            return await self._window.publish_many(messages)
        return await self._one_at_a_time(rows, messages)

    async def _one_at_a_time(
        self, rows: Sequence[Any], messages: Sequence[OutgoingMessage]
    ) -> list[Exception | None]:
        outcomes: list[Exception | None] = []
        for row, message in zip(rows, messages, strict=True):
            try:
                await self.publisher.publish(
                    message.routing_key,
                    message.body,
                    message_id=message.message_id,
                    headers=message.headers,
                )
            except Exception as exc:  # noqa: BLE001 - an outcome, read by relay_once
                outcomes.append(exc)
                if not _parks(row, exc):
                    break
            else:
                outcomes.append(None)
        # Not attempted: never read, since relay_once stops at the failure before.
        outcomes.extend([_NOT_SENT] * (len(messages) - len(outcomes)))
        return outcomes

    def _log_failure(self, row: Any, error: Exception, *, parked: bool) -> None:
        OUTBOX_FAILURES.labels(self._label).inc()
        # Log lines about this event carry the correlation id of the request
        # that caused it, like everything else that request touched.
        token = correlation.correlation_id.set(row.headers.get(CORRELATION_HEADER))
        try:
            if parked:
                log.error(
                    "event %s (%s) refused %d times; parked: %r",
                    row.event_id,
                    row.routing_key,
                    row.refusals + 1,
                    error,
                )
            else:
                log.warning(
                    "publishing event %s (%s) failed: %r", row.event_id, row.routing_key, error
                )
        finally:
            correlation.correlation_id.reset(token)

    async def _run(self) -> None:
        failures = 0
        next_purge = time.monotonic()
        next_sample = time.monotonic()
        while not self._stopping.is_set():
            # Cleared before looking, so a NOTIFY that arrives while this batch
            # runs makes the next wait return at once instead of being lost.
            self._wake.clear()
            # Also while publishing fails: a backlog growing in an outage is
            # exactly what the gauges are for.
            if time.monotonic() >= next_sample:
                await self._sample_quietly()
                next_sample = time.monotonic() + _SAMPLE_EVERY
            try:
                if time.monotonic() >= next_purge:
                    purged = await self.purge()
                    if purged:
                        log.info("purged %d published outbox rows", purged)
                    next_purge = time.monotonic() + _PURGE_EVERY
                published = await self.relay_once()
            except Exception:  # never give up: the rows stay pending
                failures += 1
                delay = _backoff(failures)
                log.warning(
                    "outbox relay of %s failed (%d in a row); retrying in %.1fs",
                    self.channel,
                    failures,
                    delay,
                    # One traceback per outage is enough to diagnose it.
                    exc_info=failures == 1,
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stopping.wait()
                continue
            if failures:
                log.info("outbox relay of %s recovered", self.channel)
            failures = 0
            if published >= self.batch_size:
                continue  # a full batch: there is probably more waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        """Holds a LISTEN connection for the relay's channel, reconnecting when it drops."""
        failures = 0
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(
                    _listener_dsn(self.engine),
                    server_settings={"application_name": f"{self.channel}-listener"},
                )
                conn.add_termination_listener(functools.partial(_set_event, lost))
                await conn.add_listener(self.channel, self._on_notify)
                failures = 0
                # Events committed while no one was listening are pending now.
                self._wake.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(_LISTENER_CHECK_EVERY):
                            await lost.wait()
                    if not lost.is_set():
                        await conn.execute("SELECT 1")
                log.warning("outbox listener connection on %s closed", self.channel)
            except Exception:  # any failure means: reconnect
                log.warning("outbox listener on %s failed", self.channel, exc_info=True)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            failures += 1
            await asyncio.sleep(_backoff(failures))
