"""The plumbing's metrics move with what really happens: outbox backlog and consumer outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.events import Envelope, EventPayload, dump
from wishlist_shared.messaging import EventPublisher, events_exchange, subscribe
from wishlist_shared.outbox import CORRELATION_HEADER, OutboxRelay, add_event
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import RelayDatabase


class ThingHappened(EventPayload):
    routing_key: ClassVar[str] = "test.thing_happened.v1"
    n: int


class Unreachable(Exception):  # noqa: N818 - reads as the condition it reports
    pass


class RecordingPublisher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[str] = []

    async def publish(
        self, routing_key: str, body: dict[str, Any], *, message_id: str, headers: dict[str, str]
    ) -> None:
        if self.fail:
            raise Unreachable(routing_key)
        self.sent.append(message_id)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_relay_samples_its_backlog_and_counts_what_it_publishes(
    relay_db: RelayDatabase,
) -> None:
    outbox = {"outbox": "relaytest"}
    async with AsyncSession(relay_db.engine) as session, session.begin():
        for n in range(3):
            await add_event(session, relay_db.outbox, ThingHappened(n=n))

    failing = OutboxRelay(relay_db.engine, relay_db.outbox, RecordingPublisher(fail=True))
    failures = value("outbox_publish_failures_total", **outbox)
    with pytest.raises(Unreachable):
        await failing.relay_once()
    assert value("outbox_publish_failures_total", **outbox) == failures + 1
    await failing.sample()
    assert value("outbox_pending_events", **outbox) == 3
    assert value("outbox_oldest_pending_age_seconds", **outbox) > 0

    published = value("outbox_events_published_total", **outbox)
    delays = value("outbox_publish_delay_seconds_count", **outbox)
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, RecordingPublisher())
    assert await relay.relay_once() == 3
    assert value("outbox_events_published_total", **outbox) == published + 3
    assert value("outbox_publish_delay_seconds_count", **outbox) == delays + 3
    await relay.sample()
    assert value("outbox_pending_events", **outbox) == 0
    assert value("outbox_oldest_pending_age_seconds", **outbox) == 0


async def test_consumers_count_handled_failed_and_dead_lettered_messages_per_queue(
    make_broker: Callable[..., RabbitBroker],
    settings: ServiceSettings,
    rabbit: AbstractRobustConnection,
) -> None:
    ok, failing = {"queue": "svc.metrics_ok"}, {"queue": "svc.metrics_failing"}
    before = {
        "handled": value("consumer_messages_handled_total", **ok),
        "lag": value("consumer_event_lag_seconds_count", **ok),
        "invalid": value("consumer_messages_dead_lettered_total", **ok, reason="invalid"),
        "failures": value("consumer_handler_failures_total", **failing),
        "failed": value("consumer_messages_dead_lettered_total", **failing, reason="failed"),
        "handling": value("consumer_handling_duration_seconds_count", **failing),
    }

    async def fine(envelope: Envelope[ThingHappened]) -> None:
        pass

    async def broken(envelope: Envelope[ThingHappened]) -> None:
        raise RuntimeError("cannot apply")

    consumer = make_broker()
    for purpose, handler in (("metrics_ok", fine), ("metrics_failing", broken)):
        subscribe(
            consumer,
            settings,
            service="svc",
            purpose=purpose,
            payload_type=ThingHappened,
            handler=handler,
            max_attempts=2,
            base_delay=0.01,
        )
    await consumer.start()
    publisher_broker = make_broker()
    await publisher_broker.start()
    envelope = Envelope.wrap(ThingHappened(n=1))
    await EventPublisher(publisher_broker, settings).publish(
        ThingHappened.routing_key,
        dump(envelope),
        message_id=str(envelope.id),
        headers={CORRELATION_HEADER: "cid"},
    )
    channel = await rabbit.channel()
    exchange = await channel.get_exchange(events_exchange(settings).name)
    # Both queues get it: one more invalid message for each.
    await exchange.publish(aio_pika.Message(b"not json"), routing_key=ThingHappened.routing_key)

    def delta(key: str, name: str, **labels: str) -> float:
        return value(name, **labels) - before[key]

    await eventually(
        lambda: (
            delta("handling", "consumer_handling_duration_seconds_count", **failing) == 2
            and delta("handled", "consumer_messages_handled_total", **ok) == 1
            and delta("invalid", "consumer_messages_dead_lettered_total", **ok, reason="invalid")
            == 1
        ),
        timeout=15,
    )
    assert delta("lag", "consumer_event_lag_seconds_count", **ok) == 1
    assert delta("failures", "consumer_handler_failures_total", **failing) == 2
    assert delta("failed", "consumer_messages_dead_lettered_total", **failing, reason="failed") == 1
