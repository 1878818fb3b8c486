"""A consumer waits out its database being away, paused; a poison message still fails fast.

Real RabbitMQ and a real PostgreSQL reached through a proxy the test cuts: the
outage lasts longer than the in-process retries of a failing handler take
(about 3 s), which used to dead-letter every event consumed meanwhile.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from wishlist_shared import health
from wishlist_shared.dependency_gate import DependencyGate, gate_of
from wishlist_shared.events import Envelope, EventPayload, dump
from wishlist_shared.inbox import claim
from wishlist_shared.messaging import (
    EventPublisher,
    dead_letter_queue_name,
    queue_name,
    subscribe,
)
from wishlist_shared.outbox import CORRELATION_HEADER
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy

if TYPE_CHECKING:
    from conftest import CountMessages, RelayDatabase

BrokerFactory = Callable[..., RabbitBroker]

OUTAGE_SECONDS = 6.0
"""Twice what five attempts with back-off from 0.2 s used to last before dead-lettering."""


class Reserved(EventPayload):
    routing_key: ClassVar[str] = "test.reserved.v1"
    n: int


class PoisonError(Exception):
    """A bug in the handler: no amount of waiting helps."""


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _publish(publisher: EventPublisher, n: int) -> uuid.UUID:
    envelope = Envelope.wrap(Reserved(n=n))
    await publisher.publish(
        Reserved.routing_key,
        dump(envelope),
        message_id=str(envelope.id),
        headers={CORRELATION_HEADER: f"cid-{n}"},
    )
    return envelope.id


async def _consumers_on(rabbit: AbstractRobustConnection, queue: str) -> int:
    channel = await rabbit.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count or 0
    finally:
        await channel.close()


@dataclass
class ProxiedDatabase:
    """The effect database, and ``engine`` on it through ``proxy``: the handler's dependency."""

    db: RelayDatabase
    proxy: TcpProxy
    engine: AsyncEngine


def effect_once(
    proxied: ProxiedDatabase, consumer: str
) -> Callable[[Envelope[Reserved]], Awaitable[None]]:
    """A handler that records the event's effect once, claimed in the inbox as ``consumer``."""

    async def apply(envelope: Envelope[Reserved]) -> None:
        async with AsyncSession(proxied.engine) as session, session.begin():
            if await claim(session, proxied.db.inbox, consumer, envelope.id):
                await session.execute(
                    insert(proxied.db.effects).values(event_id=envelope.id, n=envelope.payload.n)
                )

    return apply


@pytest.fixture
async def proxied(relay_db: RelayDatabase) -> AsyncIterator[ProxiedDatabase]:
    url = relay_db.engine.url
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    engine = create_async_engine(url.set(host="127.0.0.1", port=proxy.port), pool_pre_ping=True)
    yield ProxiedDatabase(relay_db, proxy, engine)
    await engine.dispose()
    await proxy.stop()


async def test_database_outage_is_waited_out_paused_and_nothing_is_dead_lettered(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    proxied: ProxiedDatabase,
    count_messages: CountMessages,
    redis: Redis,
) -> None:
    relay_db, proxy, engine = proxied.db, proxied.proxy, proxied.engine
    calls: dict[int, int] = {}

    async def apply(envelope: Envelope[Reserved]) -> None:
        n = envelope.payload.n
        calls[n] = calls.get(n, 0) + 1
        async with engine.begin() as conn:
            await conn.execute(insert(relay_db.effects).values(event_id=envelope.id, n=n))

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="reserved",
        payload_type=Reserved,
        handler=apply,
        max_attempts=5,
        base_delay=0.2,
    )
    await consumer.start()
    consumers_ready = health.service_readiness(relay_db.engine, redis, consumer)["consumers"]
    await consumers_ready()  # ready before the outage
    publisher = EventPublisher(make_broker(), settings)
    await publisher.broker.start()
    queue = queue_name(settings, service="svc", purpose="reserved")
    label = "svc.reserved"
    failures_before = _metric("consumer_handler_failures_total", queue=label)
    waits_before = _metric("consumer_dependency_failures_total", queue=label)

    proxy.cut()
    cut_at = time.monotonic()
    first = await _publish(publisher, 1)
    gate = gate_of(consumer)
    await eventually(lambda: gate.closed, message="the consumer noticed the outage")
    # Paused: the consumer is cancelled, so what comes now stays in the queue.
    # (RabbitMQ's consumer count still includes a cancelled consumer of a
    # quorum queue until its held message is settled: not a usable signal.)
    await eventually(lambda: gate.paused, message="the consumer was cancelled while waiting")
    later = [await _publish(publisher, n) for n in (2, 3, 4)]
    with pytest.raises(ConnectionError):
        await consumers_ready()
    assert _metric("consumers_paused") == 1
    assert _metric("consumer_messages_waiting_on_dependency", queue=label) == 1

    # Longer than the old retries took, without a fixed sleep: until then the
    # consumer keeps event 1 held and takes none of the others.
    await eventually(
        lambda: time.monotonic() - cut_at >= OUTAGE_SECONDS,
        timeout=OUTAGE_SECONDS + 5,
        interval=0.5,
    )
    assert set(calls) == {1}, "no new deliveries while waiting"
    assert calls[1] >= 3
    assert await count_messages(queue) == len(later)
    assert await count_messages(dead_letter_queue_name(queue)) == 0
    proxy.restore()

    async def all_applied() -> bool:
        async with relay_db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(relay_db.effects.c.event_id, func.count()).group_by(
                        relay_db.effects.c.event_id
                    )
                )
            ).all()
        return dict(rows) == dict.fromkeys([first, *later], 1)

    await eventually(all_applied, timeout=20, interval=0.2, message="every event applied once")
    assert not gate.closed
    await consumers_ready()
    assert _metric("consumers_paused") == 0
    assert _metric("consumer_messages_waiting_on_dependency", queue=label) == 0
    # Waits are not failures: nothing counted toward dead-lettering.
    assert _metric("consumer_handler_failures_total", queue=label) == failures_before
    assert _metric("consumer_dependency_failures_total", queue=label) > waits_before
    # Acknowledged: once the consumer is gone, nothing returns to the queue.
    await consumer.stop()
    assert await count_messages(queue) == 0
    assert await count_messages(dead_letter_queue_name(queue)) == 0


async def test_a_held_message_whose_channel_closes_during_the_outage_has_its_effect_once(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    proxied: ProxiedDatabase,
    count_messages: CountMessages,
) -> None:
    """What RabbitMQ's consumer_timeout does to a delivery held past it, played sooner.

    RabbitMQ closes the channel (406 PRECONDITION_FAILED) and puts the message
    back; the handler waiting with it is cancelled. The consumer must not stay
    paused with nothing left to notice the database's return: it takes the
    message again and waits with it, and once the database is back the event
    has its effect once and nothing is dead-lettered.
    """
    relay_db, proxy = proxied.db, proxied.proxy
    apply = effect_once(proxied, "svc.held")

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="held",
        payload_type=Reserved,
        handler=apply,
        base_delay=0.2,
    )
    await consumer.start()
    publisher = EventPublisher(make_broker(), settings)
    await publisher.broker.start()
    queue = queue_name(settings, service="svc", purpose="held")
    gate = gate_of(consumer)

    proxy.cut()
    first = await _publish(publisher, 1)
    await eventually(lambda: gate.paused, message="paused on the outage")
    assert await count_messages(queue) == 0  # held, unacked
    (subscriber,) = gate._subscribers
    assert subscriber._queue_obj is not None
    channel = await subscriber._queue_obj.channel.get_underlay_channel()
    # An unknown delivery tag: RabbitMQ closes the channel with 406, as it
    # does when a delivery outlives consumer_timeout.
    await channel.basic_ack(delivery_tag=10_000)
    await eventually(lambda: channel.is_closed, message="RabbitMQ closed the channel")
    # Taken again (on the reopened channel) and held: paused, the queue empty.
    await eventually(
        lambda: _held_again(gate, count_messages, queue), message="the message held again"
    )
    proxy.restore()

    second = await _publish(publisher, 2)

    async def effects() -> dict[uuid.UUID, int]:
        async with relay_db.engine.connect() as conn:
            rows = await conn.execute(
                select(relay_db.effects.c.event_id, func.count()).group_by(
                    relay_db.effects.c.event_id
                )
            )
            return dict(rows.all())  # type: ignore[arg-type]

    async def both_applied() -> bool:
        return set(await effects()) == {first, second}

    await eventually(both_applied, timeout=20, interval=0.2, message="both events applied")
    await eventually(lambda: _settled(count_messages, queue), message="the redelivery skipped")
    assert await effects() == {first: 1, second: 1}
    assert await count_messages(dead_letter_queue_name(queue)) == 0


async def test_a_delivery_held_too_long_is_released_uncounted_and_handled_once_after(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    proxied: ProxiedDatabase,
    count_messages: CountMessages,
) -> None:
    """Before RabbitMQ's consumer_timeout, a held delivery goes back as a fresh copy.

    Here after 1 s instead of 20 min: the copy is a new message to RabbitMQ, so
    taking it again is no redelivery and counts nothing toward the delivery
    limit, however long the outage.
    """
    relay_db, proxy = proxied.db, proxied.proxy
    apply = effect_once(proxied, "svc.released")

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="released",
        payload_type=Reserved,
        handler=apply,
        base_delay=0.2,
        release_after=1.0,
    )
    await consumer.start()
    publisher = EventPublisher(make_broker(), settings)
    await publisher.broker.start()
    queue = queue_name(settings, service="svc", purpose="released")
    label = "svc.released"
    released_before = _metric("consumer_messages_released_total", queue=label)
    redelivered_before = _metric("consumer_messages_redelivered_total", queue=label)

    proxy.cut()
    first = await _publish(publisher, 1)
    await eventually(
        lambda: _metric("consumer_messages_released_total", queue=label) >= released_before + 2,
        timeout=15,
        message="the held delivery released, taken again, and released again",
    )
    proxy.restore()

    async def applied() -> bool:
        async with relay_db.engine.connect() as conn:
            rows = await conn.execute(select(relay_db.effects.c.event_id))
            return [row.event_id for row in rows] == [first]

    await eventually(applied, timeout=20, interval=0.2, message="the event applied once")
    await eventually(lambda: _settled(count_messages, queue), message="nothing left in the queue")
    assert _metric("consumer_messages_redelivered_total", queue=label) == redelivered_before
    assert await count_messages(dead_letter_queue_name(queue)) == 0


async def _settled(count_messages: CountMessages, queue: str) -> bool:
    return await count_messages(queue) == 0


async def _held_again(gate: DependencyGate, count_messages: CountMessages, queue: str) -> bool:
    return gate.paused and await count_messages(queue) == 0


async def test_a_serialization_failure_is_retried_past_max_attempts_without_pausing(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    relay_db: RelayDatabase,
    count_messages: CountMessages,
) -> None:
    """A lost race is retried until it wins: not counted, not dead-lettered, nobody paused."""
    gate_seen_closed: list[bool] = []
    calls = 0

    async def racing(envelope: Envelope[Reserved]) -> None:
        nonlocal calls
        calls += 1
        gate_seen_closed.append(gate.closed)
        async with relay_db.engine.begin() as conn:
            if calls <= 7:  # more than max_attempts
                await conn.execute(
                    text(
                        "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' "
                        "USING ERRCODE = '40001'; END $$"
                    )
                )
            await conn.execute(insert(relay_db.effects).values(event_id=envelope.id, n=calls))

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="racing",
        payload_type=Reserved,
        handler=racing,
        max_attempts=5,
        base_delay=0.01,
    )
    gate = gate_of(consumer)
    await consumer.start()
    publisher = EventPublisher(make_broker(), settings)
    await publisher.broker.start()
    queue = queue_name(settings, service="svc", purpose="racing")
    failures_before = _metric("consumer_handler_failures_total", queue="svc.racing")

    await _publish(publisher, 1)

    await eventually(lambda: calls == 8, timeout=15, message="the eighth attempt")
    await eventually(lambda: _settled(count_messages, queue), message="acknowledged")
    assert not any(gate_seen_closed)
    assert _metric("consumer_handler_failures_total", queue="svc.racing") == failures_before
    assert await count_messages(dead_letter_queue_name(queue)) == 0


async def test_a_poison_message_is_still_dead_lettered_after_five_attempts(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    rabbit: AbstractRobustConnection,
    count_messages: CountMessages,
) -> None:
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handler(envelope: Envelope[Reserved]) -> None:
        n = envelope.payload.n
        attempts[n] = attempts.get(n, 0) + 1
        if n == 1:
            raise PoisonError("a bug for event 1")
        handled.append(n)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="poison",
        payload_type=Reserved,
        handler=handler,
        base_delay=0.01,
    )
    await consumer.start()
    publisher = EventPublisher(make_broker(), settings)
    await publisher.broker.start()
    queue = queue_name(settings, service="svc", purpose="poison")
    dlq = dead_letter_queue_name(queue)

    await _publish(publisher, 1)
    await _publish(publisher, 2)

    await eventually(lambda: count_messages(dlq), message="the poison message in the DLQ")
    await eventually(lambda: handled == [2])
    assert attempts[1] == 5
    assert await count_messages(dlq) == 1
    # A bug is not an outage: the consumers were never paused.
    assert not gate_of(consumer).closed
    assert await _consumers_on(rabbit, queue) == 1
    channel = await rabbit.channel()
    dead = await channel.declare_queue(dlq, passive=True)
    message = await dead.get(no_ack=True)
    assert isinstance(message, aio_pika.IncomingMessage)
    assert message.headers["x-first-death-reason"] == "rejected"
    await channel.close()
