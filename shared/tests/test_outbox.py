"""The outbox relay on real PostgreSQL and RabbitMQ: order, crashes, outages, replicas."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from aio_pika import DeliveryMode
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from wishlist_shared import correlation
from wishlist_shared.deliveries import redrive
from wishlist_shared.events import Envelope, EventPayload, dump
from wishlist_shared.inbox import claim
from wishlist_shared.messaging import BrokerRefusedError, EventPublisher, events_exchange, subscribe
from wishlist_shared.outbox import (
    CORRELATION_HEADER,
    PARK_AFTER_REFUSALS,
    OutboxRelay,
    OutgoingMessage,
    Publisher,
    PublishRefusedError,
    add_event,
    add_events,
    notify_channel,
)
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy

if TYPE_CHECKING:
    from conftest import RelayDatabase, TapFactory

SCHEMA = "relaytest"


class ThingHappened(EventPayload):
    routing_key: ClassVar[str] = "test.thing_happened.v1"
    n: int


class ProcessDiedError(Exception):
    """Stands for a relay process killed between RabbitMQ's confirm and its commit."""


class RollbackError(Exception):
    """Raised inside a transaction to roll it back."""


async def add_things(db: RelayDatabase, *numbers: int) -> list[Envelope[Any]]:
    """Adds one event per number, all in one transaction."""
    async with AsyncSession(db.engine) as session, session.begin():
        return [await add_event(session, db.outbox, ThingHappened(n=n)) for n in numbers]


async def outbox_rows(db: RelayDatabase) -> list[Row[Any]]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(select(db.outbox).order_by(db.outbox.c.id))).all())


@pytest.fixture
async def publisher(
    make_broker: Callable[..., RabbitBroker], settings: ServiceSettings
) -> EventPublisher:
    broker = make_broker()
    await broker.start()
    return EventPublisher(broker, settings)


@pytest.fixture
async def relays() -> AsyncIterator[list[OutboxRelay]]:
    """Relays appended here are stopped after the test, even when it fails."""
    started: list[OutboxRelay] = []
    yield started
    for relay in started:
        await relay.stop()


class ConsumerProbe:
    """A consumer whose effect is a row, applied through the inbox, as services do it."""

    def __init__(self, db: RelayDatabase) -> None:
        self.db = db
        self.handled: list[uuid.UUID] = []

    async def apply(self, envelope: Envelope[ThingHappened]) -> None:
        async with AsyncSession(self.db.engine) as session, session.begin():
            if await claim(session, self.db.inbox, "test.things", envelope.id):
                await session.execute(
                    self.db.effects.insert().values(event_id=envelope.id, n=envelope.payload.n)
                )
        self.handled.append(envelope.id)

    async def effects(self) -> int:
        async with self.db.engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(self.db.effects))
        return int(count or 0)


@pytest.fixture
async def consumer(
    relay_db: RelayDatabase, make_broker: Callable[..., RabbitBroker], settings: ServiceSettings
) -> ConsumerProbe:
    probe = ConsumerProbe(relay_db)
    broker = make_broker()
    subscribe(
        broker,
        settings,
        service="test",
        purpose="things",
        payload_type=ThingHappened,
        handler=probe.apply,
    )
    await broker.start()
    return probe


async def test_events_of_one_transaction_are_published_in_id_order_and_marked_published(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory
) -> None:
    things = await tap()
    token = correlation.correlation_id.set("req-42")
    try:
        envelopes = await add_things(relay_db, 1, 2, 3)
    finally:
        correlation.correlation_id.reset(token)

    assert await OutboxRelay(relay_db.engine, relay_db.outbox, publisher).relay_once() == 3

    received = await things.wait_for(3)
    assert [m.message_id for m in received] == [str(e.id) for e in envelopes]
    assert [json.loads(m.body) for m in received] == [dump(e) for e in envelopes]
    for message in received:
        assert message.routing_key == ThingHappened.routing_key
        assert message.delivery_mode == DeliveryMode.PERSISTENT
        assert message.headers[CORRELATION_HEADER] == "req-42"
        assert message.correlation_id == "req-42"
    rows = await outbox_rows(relay_db)
    assert [(r.state, r.attempts) for r in rows] == [("published", 1)] * 3
    assert all(r.published_at is not None for r in rows)


async def test_events_added_in_one_statement_are_published_in_the_order_given(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory
) -> None:
    things = await tap()
    async with AsyncSession(relay_db.engine) as session, session.begin():
        first = await add_event(session, relay_db.outbox, ThingHappened(n=0))
        envelopes = await add_events(
            session, relay_db.outbox, [ThingHappened(n=n) for n in range(1, 51)]
        )

    assert await OutboxRelay(relay_db.engine, relay_db.outbox, publisher).relay_once() == 51

    expected = [str(e.id) for e in [first, *envelopes]]
    assert [m.message_id for m in await things.wait_for(51)] == expected
    assert [str(r.event_id) for r in await outbox_rows(relay_db)] == expected


async def test_rolled_back_transaction_publishes_nothing(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory
) -> None:
    things = await tap()

    async def add_then_fail() -> None:
        async with AsyncSession(relay_db.engine) as session, session.begin():
            await add_event(session, relay_db.outbox, ThingHappened(n=1))
            raise RollbackError

    with pytest.raises(RollbackError):
        await add_then_fail()

    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)
    assert await relay.relay_once() == 0
    assert await outbox_rows(relay_db) == []
    # A committed event afterwards is the first and only one on the bus.
    [envelope] = await add_things(relay_db, 2)
    assert await relay.relay_once() == 1
    assert [m.message_id for m in await things.wait_for(1)] == [str(envelope.id)]


async def test_event_confirmed_before_the_relay_died_is_published_again_and_applied_once(
    relay_db: RelayDatabase, publisher: EventPublisher, consumer: ConsumerProbe
) -> None:
    class DiesAfterPublishing:
        async def publish(
            self,
            routing_key: str,
            body: dict[str, Any],
            *,
            message_id: str,
            headers: dict[str, str],
        ) -> None:
            await publisher.publish(routing_key, body, message_id=message_id, headers=headers)
            raise ProcessDiedError

    [envelope] = await add_things(relay_db, 7)
    dying: Publisher = DiesAfterPublishing()
    with pytest.raises(ProcessDiedError):
        await OutboxRelay(relay_db.engine, relay_db.outbox, dying).relay_once()
    [row] = await outbox_rows(relay_db)
    assert (row.state, row.attempts) == ("pending", 1)
    assert "ProcessDiedError" in row.last_error

    assert await OutboxRelay(relay_db.engine, relay_db.outbox, publisher).relay_once() == 1

    await eventually(lambda: consumer.handled == [envelope.id, envelope.id])
    assert await consumer.effects() == 1


async def test_relay_whose_database_connection_is_cut_after_publishing_publishes_again(
    relay_db: RelayDatabase, publisher: EventPublisher, consumer: ConsumerProbe
) -> None:
    admin = relay_db.new_engine()

    class CutsTheRelaysConnection:
        """Publishes, then terminates the backend of the relay holding the outbox lock."""

        def __init__(self) -> None:
            self.terminated = 0

        async def publish(
            self,
            routing_key: str,
            body: dict[str, Any],
            *,
            message_id: str,
            headers: dict[str, str],
        ) -> None:
            await publisher.publish(routing_key, body, message_id=message_id, headers=headers)
            async with admin.connect() as conn:
                self.terminated += await conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                        # Only this test's database: other tests' relays may
                        # hold the same kind of lock elsewhere on the server.
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                    )
                )

    [envelope] = await add_things(relay_db, 8)
    cutter = CutsTheRelaysConnection()
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, cutter)
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
            await relay.relay_once()
    finally:
        await admin.dispose()
    assert cutter.terminated == 1
    [row] = await outbox_rows(relay_db)
    assert row.state == "pending"

    assert await OutboxRelay(relay_db.engine, relay_db.outbox, publisher).relay_once() == 1

    await eventually(lambda: consumer.handled == [envelope.id, envelope.id])
    assert await consumer.effects() == 1


async def test_events_added_while_rabbitmq_is_unreachable_arrive_after_it_is_back(
    *,
    relay_db: RelayDatabase,
    make_broker: Callable[..., RabbitBroker],
    proxied_settings: ServiceSettings,
    rabbit_proxy: TcpProxy,
    tap: TapFactory,
    relays: list[OutboxRelay],
) -> None:
    things = await tap()
    broker = make_broker(proxied_settings)
    await broker.start()
    relay = OutboxRelay(
        relay_db.engine,
        relay_db.outbox,
        EventPublisher(broker, proxied_settings, confirm_timeout=1.0),
        poll_interval=0.1,
    )
    relays.append(relay)
    await relay.start()

    rabbit_proxy.cut()
    [envelope] = await add_things(relay_db, 9)  # commits: the business change does not wait

    async def failed_to_publish() -> bool:
        [row] = await outbox_rows(relay_db)
        return bool(row.state == "pending" and row.attempts >= 2 and row.last_error)

    await eventually(failed_to_publish)
    assert await things.all() == []

    rabbit_proxy.restore()
    received = await things.wait_for(1, timeout=15)
    assert [m.message_id for m in received] == [str(envelope.id)]

    async def marked() -> bool:
        return [r.state for r in await outbox_rows(relay_db)] == ["published"]

    await eventually(marked)


async def test_two_relays_at_once_publish_each_event_once_in_id_order(
    relay_db: RelayDatabase,
    make_broker: Callable[..., RabbitBroker],
    settings: ServiceSettings,
    tap: TapFactory,
    relays: list[OutboxRelay],
) -> None:
    things = await tap()
    engines: list[AsyncEngine] = []
    for _ in range(2):
        broker = make_broker()
        await broker.start()
        engine = relay_db.new_engine()
        engines.append(engine)
        relay = OutboxRelay(
            engine,
            relay_db.outbox,
            EventPublisher(broker, settings),
            batch_size=3,
            poll_interval=0.05,
        )
        relays.append(relay)
        await relay.start()
    try:
        envelopes: list[Envelope[Any]] = []
        for first in range(0, 40, 4):
            envelopes += await add_things(relay_db, first, first + 1, first + 2, first + 3)

        async def all_published() -> bool:
            return all(r.state == "published" for r in await outbox_rows(relay_db))

        await eventually(all_published)
        # Each publish is confirmed before its row is marked, so once every row
        # is marked, every message either relay ever sent is on the tap.
        received = await things.all()
        assert [m.message_id for m in received] == [str(e.id) for e in envelopes]
    finally:
        for relay in relays:
            await relay.stop()
        for engine in engines:
            await engine.dispose()


async def _listener_pid(db: RelayDatabase) -> int | None:
    async with db.engine.connect() as conn:
        pid = await conn.scalar(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": f"{notify_channel(db.outbox)}-listener"},
        )
    return int(pid) if pid is not None else None


async def test_relay_wakes_on_notify_and_listens_again_after_losing_its_connection(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory, relays: list[OutboxRelay]
) -> None:
    things = await tap()
    # Polling alone would take a minute: only a NOTIFY can deliver within the deadlines below.
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher, poll_interval=60)
    relays.append(relay)
    await relay.start()
    first_pid = await eventually(lambda: _listener_pid(relay_db))

    [first] = await add_things(relay_db, 1)
    await things.wait_for(1, timeout=5)

    async with relay_db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})

    async def listening_again() -> bool:
        pid = await _listener_pid(relay_db)
        return pid is not None and pid != first_pid

    await eventually(listening_again)
    [second] = await add_things(relay_db, 2)
    received = await things.wait_for(2, timeout=5)
    assert [m.message_id for m in received] == [str(first.id), str(second.id)]


async def test_purge_deletes_only_published_rows_older_than_retention(
    relay_db: RelayDatabase, publisher: EventPublisher
) -> None:
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher, retention=timedelta(days=7))
    old, recent = await add_things(relay_db, 1, 2)
    assert await relay.relay_once() == 2
    [still_pending] = await add_things(relay_db, 3)
    async with relay_db.engine.begin() as conn:
        await conn.execute(
            update(relay_db.outbox)
            .where(relay_db.outbox.c.event_id.in_([old.id, still_pending.id]))
            .values(
                published_at=func.now() - timedelta(days=8),
                created_at=func.now() - timedelta(days=8),
            )
        )

    assert await relay.purge() == 1
    assert {r.event_id for r in await outbox_rows(relay_db)} == {recent.id, still_pending.id}


async def test_outbox_and_inbox_tables_match_the_hand_written_migration(
    relay_db: RelayDatabase,
) -> None:
    hand_written = [
        "CREATE SCHEMA manual",
        """CREATE TABLE manual.outbox (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id UUID NOT NULL UNIQUE,
            routing_key TEXT NOT NULL,
            body JSONB NOT NULL,
            headers JSONB NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'published', 'parked')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            published_at TIMESTAMPTZ NULL,
            refusals INTEGER NOT NULL DEFAULT 0,
            parked_at TIMESTAMPTZ NULL
        )""",
        "CREATE INDEX ix_outbox_pending ON manual.outbox (id) WHERE state = 'pending'",
        "CREATE INDEX ix_outbox_parked ON manual.outbox (id) WHERE state = 'parked'",
        """CREATE TABLE manual.inbox (
            consumer TEXT NOT NULL,
            event_id UUID NOT NULL,
            handled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        )""",
    ]

    async def shape(conn: Any, schema: str, table: str) -> dict[str, Any]:
        columns = await conn.execute(
            text(
                "SELECT column_name, data_type, is_nullable, column_default, identity_generation"
                " FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"
                " ORDER BY ordinal_position"
            ),
            {"s": schema, "t": table},
        )
        constraints = await conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " JOIN pg_class r ON r.oid = c.conrelid"
                " JOIN pg_namespace n ON n.oid = r.relnamespace"
                " WHERE n.nspname = :s AND r.relname = :t ORDER BY conname"
            ),
            {"s": schema, "t": table},
        )
        indexes = await conn.execute(
            text(
                "SELECT indexname, replace(indexdef, :s || '.', '') FROM pg_indexes"
                " WHERE schemaname = :s AND tablename = :t ORDER BY indexname"
            ),
            {"s": schema, "t": table},
        )
        return {
            "columns": [tuple(r) for r in columns],
            "constraints": [tuple(r) for r in constraints],
            "indexes": [tuple(r) for r in indexes],
        }

    async with relay_db.engine.begin() as conn:
        for statement in hand_written:
            await conn.execute(text(statement))
        for table in ("outbox", "inbox"):
            assert await shape(conn, relay_db.metadata.schema or "", table) == await shape(
                conn, "manual", table
            )


async def test_stopping_relay_finishes_the_batch_in_hand_and_leaves_the_rest_pending(
    relay_db: RelayDatabase, publisher: EventPublisher, relays: list[OutboxRelay]
) -> None:
    class HeldAtFirstPublish:
        """Publishes for real, but the first publish waits until the test lets it go."""

        def __init__(self) -> None:
            self.holding = asyncio.Event()
            self.release = asyncio.Event()

        async def publish(
            self,
            routing_key: str,
            body: dict[str, Any],
            *,
            message_id: str,
            headers: dict[str, str],
        ) -> None:
            if not self.release.is_set():
                self.holding.set()
                await self.release.wait()
            await publisher.publish(routing_key, body, message_id=message_id, headers=headers)

    await add_things(relay_db, 1, 2, 3)
    held = HeldAtFirstPublish()
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, held, batch_size=3)
    relays.append(relay)
    await relay.start()
    await eventually(held.holding.is_set)
    # SIGTERM arrives mid-batch; then events keep being written.
    stopping = asyncio.create_task(relay.stop())
    await add_things(relay_db, 4)
    held.release.set()
    await stopping

    rows = await outbox_rows(relay_db)
    # The batch in hand was published and marked, not rolled back to go out twice;
    # the event written meanwhile waits for the next relay.
    assert [(r.state, r.attempts) for r in rows] == [("published", 1)] * 3 + [("pending", 0)]


class Refused(EventPayload):
    """An event the broker refuses while :func:`refusing` is in force."""

    routing_key: ClassVar[str] = "test.refused.v1"
    n: int


async def refusing(
    rabbit: AbstractRobustConnection, settings: ServiceSettings, routing_key: str
) -> AbstractQueue:
    """Makes RabbitMQ nack every publish routed with ``routing_key``; delete the queue to stop.

    A queue of this test's own that may hold nothing and rejects what
    overflows: the broker's genuine "no", without touching its configuration.
    """
    channel = await rabbit.channel()
    spec = events_exchange(settings)
    exchange = await channel.declare_exchange(
        spec.name, spec.type.value, durable=True, arguments=spec.arguments
    )
    queue = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await queue.bind(exchange, routing_key=routing_key)
    return queue


async def add_refused(db: RelayDatabase, n: int) -> Envelope[Any]:
    async with AsyncSession(db.engine) as session, session.begin():
        return await add_event(session, db.outbox, Refused(n=n))


async def park_one(relay: OutboxRelay) -> None:
    """Runs the relay until the refused row at the head of the outbox is parked."""
    for _ in range(PARK_AFTER_REFUSALS - 1):
        with pytest.raises(BrokerRefusedError):
            await relay.relay_once()


async def test_a_row_refused_five_times_is_parked_and_the_rows_after_it_publish_in_order(
    relay_db: RelayDatabase,
    publisher: EventPublisher,
    tap: TapFactory,
    rabbit: AbstractRobustConnection,
    settings: ServiceSettings,
) -> None:
    things = await tap(ThingHappened.routing_key)
    await refusing(rabbit, settings, Refused.routing_key)
    [first] = await add_things(relay_db, 1)
    refused = await add_refused(relay_db, 2)
    later = await add_things(relay_db, 3, 4)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)

    # Refusals 1 to 4 stop the batch at the refused row, as an outage would:
    # the rows behind it went out in its window, but stay pending...
    await park_one(relay)
    behind = [str(e.id) for e in later]
    received = await things.wait_for(1 + 2 * (PARK_AFTER_REFUSALS - 1))
    assert [m.message_id for m in received] == [
        str(first.id),
        *behind * (PARK_AFTER_REFUSALS - 1),
    ]
    assert [r.state for r in await outbox_rows(relay_db)] == ["published", *["pending"] * 3]
    # ...the fifth parks it, and the rows behind it count in the same batch.
    assert await relay.relay_once() == 2

    received = await things.wait_for(1 + 2 * PARK_AFTER_REFUSALS)
    assert [m.message_id for m in received] == [str(first.id), *behind * PARK_AFTER_REFUSALS]
    rows = await outbox_rows(relay_db)
    assert [(r.event_id, r.state) for r in rows] == [
        (first.id, "published"),
        (refused.id, "parked"),
        (later[0].id, "published"),
        (later[1].id, "published"),
    ]
    parked = rows[1]
    assert (parked.attempts, parked.refusals) == (5, 5)
    assert parked.parked_at is not None
    assert "BrokerRefusedError" in parked.last_error
    assert "Nack" in parked.last_error
    # Parked rows are left alone: the next run has nothing to do.
    assert await relay.relay_once() == 0
    await relay.sample()
    assert REGISTRY.get_sample_value("outbox_parked_events", {"outbox": SCHEMA}) == 1
    assert REGISTRY.get_sample_value("outbox_pending_events", {"outbox": SCHEMA}) == 0


async def test_an_outage_is_retried_for_as_long_as_it_lasts_and_never_parks(
    *,
    relay_db: RelayDatabase,
    make_broker: Callable[..., RabbitBroker],
    proxied_settings: ServiceSettings,
    rabbit_proxy: TcpProxy,
    tap: TapFactory,
) -> None:
    things = await tap()
    broker = make_broker(proxied_settings)
    await broker.start()
    publisher = EventPublisher(broker, proxied_settings, confirm_timeout=1.0)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)
    [envelope] = await add_things(relay_db, 1)

    rabbit_proxy.cut()
    for _ in range(PARK_AFTER_REFUSALS + 2):
        with pytest.raises(Exception) as failed:  # noqa: PT011 - whatever an outage raises
            await relay.relay_once()
        assert not isinstance(failed.value, PublishRefusedError), failed.value
    [row] = await outbox_rows(relay_db)
    assert (row.state, row.attempts, row.refusals) == ("pending", PARK_AFTER_REFUSALS + 2, 0)

    rabbit_proxy.restore()

    async def published() -> bool:
        try:
            return await relay.relay_once() == 1
        except Exception:  # noqa: BLE001 - not reconnected yet
            return False

    await eventually(published, timeout=15)
    assert [m.message_id for m in await things.wait_for(1)] == [str(envelope.id)]


async def test_a_redriven_parked_row_is_published_exactly_once(
    relay_db: RelayDatabase,
    publisher: EventPublisher,
    tap: TapFactory,
    rabbit: AbstractRobustConnection,
    settings: ServiceSettings,
) -> None:
    refused_tap = await tap(Refused.routing_key)
    refuser = await refusing(rabbit, settings, Refused.routing_key)
    refused = await add_refused(relay_db, 1)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)
    await park_one(relay)
    assert await relay.relay_once() == 0
    # The tap is bound beside the refusing queue, so it saw each refused attempt.
    assert len(await refused_tap.wait_for(PARK_AFTER_REFUSALS)) == PARK_AFTER_REFUSALS
    refused_tap.received.clear()

    await refuser.delete(if_unused=False, if_empty=False)  # the cause, fixed
    assert await redrive(relay_db.engine, relay_db.outbox, [999_999]) == 0
    assert await redrive(relay_db.engine, relay_db.outbox) == 1
    assert await relay.relay_once() == 1
    # A second re-drive finds nothing parked, so nothing goes out twice.
    assert await redrive(relay_db.engine, relay_db.outbox) == 0
    assert await relay.relay_once() == 0

    assert [m.message_id for m in await refused_tap.wait_for(1)] == [str(refused.id)]
    [row] = await outbox_rows(relay_db)
    assert (row.state, row.refusals, row.parked_at) == ("published", 0, None)
    assert await refused_tap.all() == refused_tap.received
    assert len(refused_tap.received) == 1


async def test_a_window_marks_rows_up_to_its_first_refusal_and_sends_the_rest_again_in_order(
    relay_db: RelayDatabase,
    publisher: EventPublisher,
    tap: TapFactory,
    rabbit: AbstractRobustConnection,
    settings: ServiceSettings,
) -> None:
    things = await tap(ThingHappened.routing_key)
    refuser = await refusing(rabbit, settings, Refused.routing_key)
    [first] = await add_things(relay_db, 1)
    refused = await add_refused(relay_db, 2)
    later = await add_things(relay_db, 3, 4)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)

    with pytest.raises(BrokerRefusedError):
        await relay.relay_once()
    # The rows behind the refused one were sent in the same window and
    # confirmed (the tap has them), yet none of them counts as published.
    behind = [str(e.id) for e in later]
    assert [m.message_id for m in await things.wait_for(3)] == [str(first.id), *behind]
    rows = await outbox_rows(relay_db)
    assert [(r.event_id, r.state, r.refusals) for r in rows] == [
        (first.id, "published", 0),
        (refused.id, "pending", 1),
        (later[0].id, "pending", 0),
        (later[1].id, "pending", 0),
    ]

    await refuser.delete(if_unused=False, if_empty=False)  # the broker says yes again
    refused_tap = await tap(Refused.routing_key)
    assert await relay.relay_once() == 3
    # Sent again behind the refused row, in id order; only the first copies
    # went out ahead of it, which the consumers' inboxes absorb.
    assert [m.message_id for m in await refused_tap.wait_for(1)] == [str(refused.id)]
    assert [m.message_id for m in await things.wait_for(5)] == [str(first.id), *behind, *behind]
    assert {r.state for r in await outbox_rows(relay_db)} == {"published"}


async def test_an_outage_in_the_middle_of_a_window_marks_only_the_rows_before_it(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory
) -> None:
    class LosesTheThird:
        """A window whose third message was never confirmed (the connection dropped)."""

        def __init__(self) -> None:
            self.windows: list[list[str]] = []

        async def publish(
            self,
            routing_key: str,
            body: dict[str, Any],
            *,
            message_id: str,
            headers: dict[str, str],
        ) -> None:
            raise AssertionError("the relay publishes windows through publish_many")

        async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Exception | None]:
            self.windows.append([m.message_id for m in messages])
            outcomes = await publisher.publish_many(messages)
            if len(self.windows) == 1:
                outcomes[2] = ConnectionError("connection lost before the confirm")
            return outcomes

    things = await tap()
    sent = await add_things(relay_db, *range(6))
    losing = LosesTheThird()
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, losing)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    rows = await outbox_rows(relay_db)
    assert [r.state for r in rows] == ["published"] * 2 + ["pending"] * 4
    assert [r.attempts for r in rows] == [1, 1, 1, 0, 0, 0]
    assert rows[2].refusals == 0  # an outage, not a refusal

    assert await relay.relay_once() == 4
    ids = [str(e.id) for e in sent]
    # One window each time: the whole batch, then what was left, in id order.
    assert losing.windows == [ids, ids[2:]]
    assert [m.message_id for m in await things.wait_for(10)] == ids + ids[2:]
    assert {r.state for r in await outbox_rows(relay_db)} == {"published"}


async def test_a_relay_that_does_not_get_the_lock_publishes_nothing(
    relay_db: RelayDatabase, publisher: EventPublisher, tap: TapFactory
) -> None:
    things = await tap()
    await add_things(relay_db, 1, 2)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, publisher)
    other = relay_db.new_engine()
    try:
        async with other.connect() as holder, holder.begin():
            # What another replica's relay holds while it publishes.
            assert await holder.scalar(
                select(func.pg_try_advisory_xact_lock(func.hashtextextended(f"outbox:{SCHEMA}", 0)))
            )
            # The lock is taken in the statement that reads the rows: without
            # it, no row comes back, none is published.
            assert await relay.relay_once() == 0
    finally:
        await other.dispose()
    assert [r.state for r in await outbox_rows(relay_db)] == ["pending", "pending"]
    assert await things.all() == []
    assert await relay.relay_once() == 2
