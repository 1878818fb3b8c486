"""The operator's command for parked outbox rows and dead letters, on the real servers.

``python -m wishlist_shared.deliveries`` is run as an operator runs it, as a
process, against this test's own database schema and queues.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.deliveries import DeadLetterSampler, platform_queues
from wishlist_shared.events import Envelope, EventPayload, dump
from wishlist_shared.messaging import (
    BrokerRefusedError,
    EventPublisher,
    dead_letter_queue_name,
    events_exchange,
    queue_name,
    subscribe,
)
from wishlist_shared.outbox import PARK_AFTER_REFUSALS, OutboxRelay, add_event
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy

if TYPE_CHECKING:
    from conftest import CountMessages, RelayDatabase, TapFactory


class Refused(EventPayload):
    routing_key: ClassVar[str] = "test.refused_by_broker.v1"
    n: int


class Failing(EventPayload):
    routing_key: ClassVar[str] = "test.failing.v1"
    n: int


async def command(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wishlist_shared.deliveries",
        *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


def database_url(db: RelayDatabase) -> str:
    return db.engine.url.render_as_string(hide_password=False)


async def test_parked_rows_are_listed_shown_and_redriven_once_by_the_command(
    relay_db: RelayDatabase,
    make_broker: Callable[..., RabbitBroker],
    settings: ServiceSettings,
    rabbit: AbstractRobustConnection,
    tap: TapFactory,
) -> None:
    # The broker nacks every Refused: a queue of this test's own that holds nothing.
    channel = await rabbit.channel()
    spec = events_exchange(settings)
    exchange = await channel.declare_exchange(
        spec.name, spec.type.value, durable=True, arguments=spec.arguments
    )
    refuser = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await refuser.bind(exchange, routing_key=Refused.routing_key)
    broker = make_broker()
    await broker.start()
    relay = OutboxRelay(relay_db.engine, relay_db.outbox, EventPublisher(broker, settings))
    async with AsyncSession(relay_db.engine) as session, session.begin():
        envelope = await add_event(session, relay_db.outbox, Refused(n=1))
    for _ in range(PARK_AFTER_REFUSALS - 1):
        with pytest.raises(BrokerRefusedError):
            await relay.relay_once()
    assert await relay.relay_once() == 0
    where = ["--service", "relaytest", "--database-url", database_url(relay_db)]

    code, out = await command("parked", "list", *where)
    assert code == 0, out
    [listed] = json.loads(out)
    assert listed["event_id"] == str(envelope.id)
    assert listed["routing_key"] == Refused.routing_key
    assert (listed["attempts"], listed["refusals"]) == (5, 5)
    assert "Nack" in listed["last_error"]
    assert listed["parked_at"]

    code, out = await command("parked", "show", str(listed["id"]), *where)
    assert code == 0, out
    shown = json.loads(out)
    assert shown["body"] == dump(envelope)
    assert shown["headers"]["x-correlation-id"] == envelope.correlation_id
    assert shown["last_error"] == listed["last_error"]

    await refuser.delete(if_unused=False, if_empty=False)  # the cause, fixed
    received = await tap(Refused.routing_key)
    code, out = await command("parked", "redrive", str(listed["id"]), *where)
    assert code == 0, out
    assert "re-drove 1 parked row(s)" in out
    assert await relay.relay_once() == 1
    assert [m.message_id for m in await received.wait_for(1)] == [str(envelope.id)]

    # Nothing is parked any more: a second re-drive of it is refused, publishes nothing.
    code, out = await command("parked", "redrive", str(listed["id"]), *where)
    assert (code, "re-drove 0 parked row(s)" in out) == (1, True)
    code, out = await command("parked", "list", *where)
    assert (code, json.loads(out)) == (0, [])
    assert await relay.relay_once() == 0
    assert len(await received.all()) == 1


async def test_dead_letters_are_listed_shown_in_place_sampled_and_replayed_by_the_command(
    make_broker: Callable[..., RabbitBroker],
    settings: ServiceSettings,
    rabbit: AbstractRobustConnection,
    count_messages: CountMessages,
) -> None:
    fixed = False
    handled: list[int] = []

    async def handler(envelope: Envelope[Failing]) -> None:
        if not fixed:
            raise RuntimeError("a bug")
        handled.append(envelope.payload.n)

    consumer = make_broker()
    subscribe(
        consumer,
        settings,
        service="svc",
        purpose="ops",
        payload_type=Failing,
        handler=handler,
        max_attempts=1,
    )
    await consumer.start()
    queue = queue_name(settings, service="svc", purpose="ops")
    dlq = dead_letter_queue_name(queue)
    channel = await rabbit.channel()
    exchange = await channel.get_exchange(events_exchange(settings).name)
    sent = [Envelope.wrap(Failing(n=n)) for n in (1, 2)]
    for envelope in sent:
        await exchange.publish(
            aio_pika.Message(
                json.dumps(dump(envelope)).encode(),
                message_id=str(envelope.id),
                content_type="application/json",
            ),
            routing_key=Failing.routing_key,
        )

    async def both_dead() -> bool:
        return await count_messages(dlq) == 2

    await eventually(both_dead)
    env = {"RABBITMQ_URL": settings.rabbitmq_url}

    code, out = await command("dead-letters", "list", queue, env=env)
    assert code == 0, out
    assert json.loads(out) == {dlq: 2}

    code, out = await command("dead-letters", "show", queue, "--limit", "1", env=env)
    assert code == 0, out
    [shown] = json.loads(out)
    assert shown["message_id"] in {str(e.id) for e in sent}
    assert shown["body"]["payload"]["n"] in {1, 2}
    assert shown["reason"] == "rejected"
    # Shown, not taken: both are still there.
    await eventually(both_dead)

    sampler = DeadLetterSampler.of(consumer, settings)
    assert sampler.queues == [queue]
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        await sampler.sample(connection)
    label = "svc.ops"
    assert REGISTRY.get_sample_value("dead_letter_queue_messages", {"queue": label}) == 2

    fixed = True
    code, out = await command("dead-letters", "replay", dlq, env=env)
    assert code == 0, out
    assert f"moved 2 message(s) back to {queue}" in out
    await eventually(lambda: sorted(handled) == [1, 2])
    assert await count_messages(dlq) == 0


def test_the_platform_queues_are_those_the_services_declare(settings: ServiceSettings) -> None:
    queues = platform_queues(settings)
    prefix = settings.queue_prefix
    assert f"{prefix}notifier.item_reserved" in queues
    assert f"{prefix}wishlists.user_registered" in queues
    assert all(q.startswith(prefix) and not q.endswith(".dlq") for q in queues)


async def test_the_sampler_keeps_the_service_going_while_rabbitmq_is_away_and_resumes(
    settings: ServiceSettings,
    proxied_settings: ServiceSettings,
    rabbit_proxy: TcpProxy,
    rabbit: AbstractRobustConnection,
) -> None:
    queue = queue_name(settings, service="svc", purpose="sampled")
    channel = await rabbit.channel()
    dlq = await channel.declare_queue(
        dead_letter_queue_name(queue), durable=True, arguments={"x-expires": 60_000}
    )

    def gauge() -> float | None:
        return REGISTRY.get_sample_value("dead_letter_queue_messages", {"queue": "svc.sampled"})

    sampler = DeadLetterSampler(proxied_settings, [queue], every=0.1)
    async with sampler.running():
        await eventually(lambda: gauge() == 0)
        rabbit_proxy.cut()
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=dlq.name)
        await eventually(lambda: sampler.failures >= 2, message="rounds failing quietly")
        assert gauge() == 0  # the last value read, kept
        rabbit_proxy.restore()
        await eventually(lambda: gauge() == 1, timeout=15)
        assert sampler.failures == 0
    await dlq.delete(if_unused=False, if_empty=False)
