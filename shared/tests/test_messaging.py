"""Publishing and consuming on a real RabbitMQ: confirms, retries, dead letters, outages."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker

from wishlist_shared import correlation
from wishlist_shared.deliveries import replay_dead_letters
from wishlist_shared.events import Envelope, EventPayload, dump
from wishlist_shared.messaging import (
    BrokerRefusedError,
    EventPublisher,
    PublishNotConfirmedError,
    dead_letter_queue_name,
    events_exchange,
    queue_name,
    run_broker,
    subscribe,
)
from wishlist_shared.outbox import CORRELATION_HEADER, OutgoingMessage, PublishRefusedError
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy

if TYPE_CHECKING:
    from conftest import CountMessages, TapFactory

BrokerFactory = Callable[..., RabbitBroker]


class ThingHappened(EventPayload):
    routing_key: ClassVar[str] = "test.thing_happened.v1"
    n: int


class HandlerError(Exception):
    """What a handler raises when its effect cannot be applied (yet)."""


async def publish_thing(publisher: EventPublisher, n: int, cid: str = "cid") -> Envelope[Any]:
    """Publishes as the outbox relay does: the envelope's id as message id."""
    envelope = Envelope.wrap(ThingHappened(n=n)).model_copy(update={"correlation_id": cid})
    await publisher.publish(
        ThingHappened.routing_key,
        dump(envelope),
        message_id=str(envelope.id),
        headers={CORRELATION_HEADER: cid},
    )
    return envelope


async def started_publisher(
    make_broker: BrokerFactory, settings: ServiceSettings
) -> EventPublisher:
    broker = make_broker()
    await broker.start()
    return EventPublisher(broker, settings)


async def test_handler_gets_the_envelope_with_its_correlation_id_in_context(
    make_broker: BrokerFactory, settings: ServiceSettings
) -> None:
    seen: list[tuple[Envelope[ThingHappened], str | None]] = []

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        seen.append((envelope, correlation.correlation_id.get()))

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="things",
        payload_type=ThingHappened,
        handler=handler,
    )
    await consumer.start()
    publisher = await started_publisher(make_broker, settings)

    sent = await publish_thing(publisher, 5, cid="req-7")

    await eventually(lambda: len(seen) == 1)
    [(envelope, cid)] = seen
    assert envelope == sent
    assert isinstance(envelope.payload, ThingHappened)
    assert envelope.payload.n == 5
    assert cid == "req-7"
    assert correlation.correlation_id.get() is None  # reset after the handler


async def test_failing_handler_is_retried_with_back_off_and_its_effect_happens_once(
    make_broker: BrokerFactory, settings: ServiceSettings, count_messages: CountMessages
) -> None:
    attempts: list[float] = []
    effects: list[uuid.UUID] = []

    async def flaky(envelope: Envelope[ThingHappened]) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            raise HandlerError("database busy")
        effects.append(envelope.id)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="flaky",
        payload_type=ThingHappened,
        handler=flaky,
        max_attempts=5,
        base_delay=0.1,
    )
    await consumer.start()
    sent = await publish_thing(await started_publisher(make_broker, settings), 1)

    await eventually(lambda: effects == [sent.id])
    assert len(attempts) == 3
    first_pause, second_pause = attempts[1] - attempts[0], attempts[2] - attempts[1]
    assert first_pause >= 0.1
    assert second_pause >= 0.2  # exponential: twice the first
    # Acknowledged: stopping the consumer would return an unacknowledged
    # message to the queue, and nothing comes back.
    await consumer.stop()
    queue = queue_name(settings, service="svc", purpose="flaky")
    assert await count_messages(queue) == 0
    assert await count_messages(dead_letter_queue_name(queue)) == 0
    assert effects == [sent.id]


async def test_always_failing_message_is_dead_lettered_the_next_is_handled_and_replay_returns_it(
    make_broker: BrokerFactory, settings: ServiceSettings, count_messages: CountMessages
) -> None:
    attempts: dict[int, int] = {}
    handled: list[int] = []
    fixed = False

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        n = envelope.payload.n
        attempts[n] = attempts.get(n, 0) + 1
        if n == 1 and not fixed:
            raise HandlerError("a bug for event 1")
        handled.append(n)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="buggy",
        payload_type=ThingHappened,
        handler=handler,
        max_attempts=3,
        base_delay=0.01,
    )
    await consumer.start()
    publisher = await started_publisher(make_broker, settings)
    queue = queue_name(settings, service="svc", purpose="buggy")
    dlq = dead_letter_queue_name(queue)

    await publish_thing(publisher, 1)
    await publish_thing(publisher, 2)

    await eventually(lambda: handled == [2])
    await eventually(lambda: count_messages(dlq), message="a message in the DLQ")
    assert attempts[1] == 3
    assert await count_messages(dlq) == 1

    await publish_thing(publisher, 3)  # still consuming after dead-lettering
    await eventually(lambda: handled == [2, 3])

    fixed = True
    assert await replay_dead_letters(settings, queue) == 1
    await eventually(lambda: handled == [2, 3, 1])
    assert attempts[1] == 4
    assert await count_messages(dlq) == 0
    assert await replay_dead_letters(settings, queue) == 0


async def test_body_that_does_not_validate_goes_straight_to_the_dead_letter_queue(
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    rabbit: AbstractRobustConnection,
    count_messages: CountMessages,
) -> None:
    calls: list[Envelope[ThingHappened]] = []

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        calls.append(envelope)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="strict",
        payload_type=ThingHappened,
        handler=handler,
    )
    await consumer.start()
    channel = await rabbit.channel()
    spec = events_exchange(settings)
    exchange = await channel.get_exchange(spec.name)
    wrong_payload = Envelope.wrap(ThingHappened(n=1)).model_dump_json().replace('"n":1', '"n":"x"')
    for body in (b"not json at all", b'{"id": "nope"}', wrong_payload.encode()):
        await exchange.publish(
            aio_pika.Message(body, content_type="application/json"),
            routing_key=ThingHappened.routing_key,
        )
    dlq = dead_letter_queue_name(queue_name(settings, service="svc", purpose="strict"))

    async def all_dead() -> bool:
        return await count_messages(dlq) == 3

    await eventually(all_dead)
    assert calls == []
    # A valid event behind them is handled as usual.
    sent = await publish_thing(await started_publisher(make_broker, settings), 2)
    await eventually(lambda: [c.id for c in calls] == [sent.id])


async def test_event_with_no_bound_queue_lands_in_the_unrouted_queue(
    make_broker: BrokerFactory, settings: ServiceSettings, rabbit: AbstractRobustConnection
) -> None:
    publisher = await started_publisher(make_broker, settings)
    sent = await publish_thing(publisher, 4)

    channel = await rabbit.channel()
    unrouted = await channel.declare_queue(f"{settings.events_exchange}.unrouted", passive=True)
    message = await eventually(lambda: unrouted.get(no_ack=True, fail=False))
    assert message.message_id == str(sent.id)
    assert message.routing_key == ThingHappened.routing_key
    await channel.queue_delete(unrouted.name)


async def test_unrouted_events_are_capped_dropping_the_oldest_first(
    make_broker: BrokerFactory, settings: ServiceSettings, rabbit: AbstractRobustConnection
) -> None:
    capped = settings.model_copy(update={"unrouted_max_messages": 2})
    publisher = await started_publisher(make_broker, capped)
    sent = [await publish_thing(publisher, n) for n in (1, 2, 3)]

    channel = await rabbit.channel()
    unrouted = await channel.declare_queue(f"{capped.events_exchange}.unrouted", passive=True)
    kept = [await eventually(lambda: unrouted.get(no_ack=True, fail=False)) for _ in range(2)]
    assert [m.message_id for m in kept] == [str(e.id) for e in sent[1:]]
    assert await unrouted.get(no_ack=True, fail=False) is None
    await channel.queue_delete(unrouted.name)


async def test_unroutable_event_is_not_confirmed_until_the_unrouted_queue_is_back(
    make_broker: BrokerFactory, settings: ServiceSettings, rabbit: AbstractRobustConnection
) -> None:
    publisher = await started_publisher(make_broker, settings)
    await publish_thing(publisher, 1)
    channel = await rabbit.channel()
    await channel.queue_delete(f"{settings.events_exchange}.unrouted")

    with pytest.raises(PublishNotConfirmedError):
        await publish_thing(publisher, 2)

    # The next attempt (the relay's retry) declares the queue again and is kept.
    sent = await publish_thing(publisher, 2)
    unrouted = await channel.declare_queue(f"{settings.events_exchange}.unrouted", passive=True)
    message = await eventually(lambda: unrouted.get(no_ack=True, fail=False))
    assert message.message_id == str(sent.id)
    await channel.queue_delete(unrouted.name)


async def test_publish_raises_instead_of_hanging_while_rabbitmq_is_unreachable(
    make_broker: BrokerFactory, proxied_settings: ServiceSettings, rabbit_proxy: TcpProxy
) -> None:
    broker = make_broker(proxied_settings)
    await broker.start()
    publisher = EventPublisher(broker, proxied_settings, confirm_timeout=1.0)
    await publish_thing(publisher, 1)  # declares, and proves the path works

    rabbit_proxy.cut()
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017, PT011 - closed channel, lost connection or timeout
        await publish_thing(publisher, 2)
    assert time.monotonic() - started < 3

    rabbit_proxy.restore()

    async def publishes_again() -> bool:
        try:
            await publish_thing(publisher, 3)
        except Exception:  # noqa: BLE001 - not reconnected yet
            return False
        return True

    # The robust connection comes back by itself and publishing works again.
    await eventually(publishes_again, timeout=10)


def _start_attempt_failed(caplog: pytest.LogCaptureFixture) -> bool:
    return any("RabbitMQ unreachable" in r.getMessage() for r in caplog.records)


def _reconnection_loops() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if "connection_factory" in repr(t.get_coro())}


async def test_service_starts_while_rabbitmq_is_down_and_consumes_once_it_is_up(
    *,
    make_broker: BrokerFactory,
    settings: ServiceSettings,
    proxied_settings: ServiceSettings,
    rabbit_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[uuid.UUID] = []

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        handled.append(envelope.id)

    rabbit_proxy.cut()
    consumer = make_broker(proxied_settings)
    subscribe(
        consumer,
        proxied_settings,
        service="svc",
        purpose="late",
        payload_type=ThingHappened,
        handler=handler,
    )
    async with run_broker(consumer, proxied_settings, retry_interval=0.1):
        # The body runs at once: the service serves while the broker waits.
        assert not await consumer.ping(timeout=0.1)
        await eventually(lambda: _start_attempt_failed(caplog))
        assert not consumer.running
        rabbit_proxy.restore()
        await eventually(lambda: consumer.running)
        sent = await publish_thing(await started_publisher(make_broker, settings), 6)
        await eventually(lambda: handled == [sent.id])


async def test_shutdown_while_rabbitmq_is_still_down_is_prompt_and_leaves_nothing_behind(
    make_broker: BrokerFactory,
    proxied_settings: ServiceSettings,
    rabbit_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rabbit_proxy.cut()
    before = _reconnection_loops()
    consumer = make_broker(proxied_settings)
    started = time.monotonic()
    async with run_broker(consumer, proxied_settings, retry_interval=0.1):
        await eventually(lambda: _start_attempt_failed(caplog))
    assert time.monotonic() - started < 3
    assert not consumer.running
    # No aio-pika connection was left reconnecting forever in the background.
    assert _reconnection_loops() <= before


async def test_replay_command_moves_dead_letters_back(
    make_broker: BrokerFactory, settings: ServiceSettings, count_messages: CountMessages
) -> None:
    handled: list[int] = []
    fixed = False

    async def handler(envelope: Envelope[ThingHappened]) -> None:
        if not fixed:
            raise HandlerError("not yet")
        handled.append(envelope.payload.n)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="cli",
        payload_type=ThingHappened,
        handler=handler,
        max_attempts=1,
    )
    await consumer.start()
    publisher = await started_publisher(make_broker, settings)
    queue = queue_name(settings, service="svc", purpose="cli")
    for n in (1, 2, 3):
        await publish_thing(publisher, n)

    async def all_dead() -> bool:
        return await count_messages(dead_letter_queue_name(queue)) == 3

    await eventually(all_dead)
    fixed = True
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wishlist_shared.deliveries",
        "dead-letters",
        "replay",
        f"{queue}.dlq",
        "--limit",
        "2",
        env={**os.environ, "RABBITMQ_URL": settings.rabbitmq_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert f"moved 2 message(s) back to {queue}" in output.decode()
    # Handled concurrently, the three were dead-lettered in no set order.
    await eventually(lambda: len(handled) == 2)
    assert await count_messages(dead_letter_queue_name(queue)) == 1
    assert len(set(handled)) == 2


async def test_a_channel_closed_over_a_publish_is_a_refusal_and_the_next_publish_recovers(
    make_broker: BrokerFactory, settings: ServiceSettings, rabbit: AbstractRobustConnection
) -> None:
    publisher = await started_publisher(make_broker, settings)
    await publish_thing(publisher, 1)  # declares the topology
    channel = await rabbit.channel()
    # Gone behind the publisher's back: RabbitMQ closes its channel with 404 over the publish.
    await channel.exchange_delete(settings.events_exchange)

    with pytest.raises(BrokerRefusedError) as refused:
        await publish_thing(publisher, 2)
    assert isinstance(refused.value, PublishRefusedError)
    assert isinstance(refused.value.__cause__, aiormq.exceptions.ChannelNotFoundEntity)

    # The refusal was about this publish, not the connection: the next one
    # declares the exchange again on a fresh channel and is confirmed.
    async def publishes_again() -> bool:
        try:
            await publish_thing(publisher, 3)
        except Exception:  # noqa: BLE001 - the channel is still being reopened
            return False
        return True

    await eventually(publishes_again, timeout=10)


async def test_max_workers_bounds_the_handlers_at_once_and_a_stop_leaves_the_waiting_ones_queued(
    make_broker: BrokerFactory, settings: ServiceSettings, count_messages: CountMessages
) -> None:
    running = 0
    most = 0
    started: list[int] = []
    go_on = asyncio.Event()

    async def slow(envelope: Envelope[ThingHappened]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        started.append(envelope.payload.n)
        try:
            await go_on.wait()
        finally:
            running -= 1

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="workers",
        payload_type=ThingHappened,
        handler=slow,
        max_workers=2,
    )
    await consumer.start()
    queue = queue_name(settings, service="svc", purpose="workers")
    publisher = await started_publisher(make_broker, settings)
    for n in range(6):
        await publish_thing(publisher, n)

    # All six prefetched (none left ready in the queue), two of them handled.
    async def all_taken() -> bool:
        return len(started) == 2 and await count_messages(queue) == 0

    await eventually(all_taken)
    [subscriber] = [s for s in consumer.subscribers if s.calls]
    stopping = asyncio.create_task(consumer.stop())
    await eventually(lambda: not subscriber.running)
    go_on.set()
    await stopping

    # The two in flight finished and were acknowledged; the four that never
    # had a slot were not begun during the grace period: back in the queue.
    assert len(started) == 2
    assert most == 2
    assert await count_messages(queue) == 4
    assert await count_messages(dead_letter_queue_name(queue)) == 0


def test_prefetch_may_not_be_fewer_than_max_workers(
    make_broker: BrokerFactory, settings: ServiceSettings
) -> None:
    async def handler(envelope: Envelope[ThingHappened]) -> None:
        pass

    with pytest.raises(ValueError, match="prefetch"):
        subscribe(
            make_broker(),
            settings,
            service="svc",
            purpose="few",
            payload_type=ThingHappened,
            handler=handler,
            prefetch=2,
            max_workers=4,
        )


async def test_a_window_arrives_whole_and_in_order_with_one_outcome_per_message(
    make_broker: BrokerFactory, settings: ServiceSettings, tap: TapFactory
) -> None:
    things = await tap(ThingHappened.routing_key)
    publisher = await started_publisher(make_broker, settings)
    envelopes = [
        Envelope.wrap(ThingHappened(n=n)).model_copy(update={"correlation_id": f"cid-{n}"})
        for n in range(100)
    ]
    messages = [
        OutgoingMessage(
            routing_key=ThingHappened.routing_key,
            body=dump(envelope),
            message_id=str(envelope.id),
            headers={CORRELATION_HEADER: envelope.correlation_id},
        )
        for envelope in envelopes
    ]

    assert await publisher.publish_many(messages) == [None] * 100

    received = await things.wait_for(100)
    assert [m.message_id for m in received] == [str(e.id) for e in envelopes]
    # The same message as one publish makes: persistent, typed, correlated.
    first = received[0]
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert first.content_type == "application/json"
    assert first.type == ThingHappened.routing_key
    assert first.correlation_id == "cid-0"
    assert first.headers == {CORRELATION_HEADER: "cid-0"}
    assert Envelope[ThingHappened].model_validate_json(first.body) == envelopes[0]


async def test_a_window_while_rabbitmq_is_unreachable_fails_every_message_as_an_outage(
    make_broker: BrokerFactory, proxied_settings: ServiceSettings, rabbit_proxy: TcpProxy
) -> None:
    broker = make_broker(proxied_settings)
    await broker.start()
    publisher = EventPublisher(broker, proxied_settings, confirm_timeout=1.0)
    rabbit_proxy.cut()
    messages = [OutgoingMessage(ThingHappened.routing_key, {"n": n}, f"m{n}", {}) for n in range(3)]
    started = time.monotonic()
    outcomes = await publisher.publish_many(messages)
    assert time.monotonic() - started < 3
    assert len(outcomes) == 3
    assert all(isinstance(o, Exception) for o in outcomes)
    assert not any(isinstance(o, PublishRefusedError) for o in outcomes), outcomes
