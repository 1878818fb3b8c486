"""Fixtures of the messaging tests: settings on the test's namespace, brokers, taps, a database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wishlist_shared.inbox import inbox_table
from wishlist_shared.messaging import create_broker, events_exchange
from wishlist_shared.outbox import outbox_table
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.plugin import MakeDatabase
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace

SCHEMA = "relaytest"


@pytest.fixture
def settings(servers: Servers, namespace: Namespace) -> ServiceSettings:
    return ServiceSettings(
        rabbitmq_url=servers.rabbitmq_url,
        events_exchange=namespace.exchange,
        queue_prefix=namespace.queue_prefix,
        # The server drops this test's queues a minute after it stops using them.
        queue_expiry_seconds=60,
    )


@pytest.fixture
async def rabbit(servers: Servers) -> AsyncIterator[AbstractRobustConnection]:
    """A plain connection of the test's own, to look at queues from outside."""
    connection = await aio_pika.connect_robust(servers.rabbitmq_url)
    async with connection:
        yield connection


@pytest.fixture
async def make_broker(settings: ServiceSettings) -> AsyncIterator[Callable[..., RabbitBroker]]:
    """``make_broker()`` or ``make_broker(settings=...)``: a broker stopped after the test."""
    made: list[RabbitBroker] = []

    def make(settings: ServiceSettings = settings) -> RabbitBroker:
        broker = create_broker(settings, service="test", reconnect_interval=0.2)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        with contextlib.suppress(Exception):
            await broker.stop()


@pytest.fixture
async def rabbit_proxy(servers: Servers) -> AsyncIterator[TcpProxy]:
    """A path to RabbitMQ that the test can cut; ``proxied_settings`` go through it."""
    target = urlsplit(servers.rabbitmq_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
def proxied_settings(settings: ServiceSettings, rabbit_proxy: TcpProxy) -> ServiceSettings:
    """The test's settings, with RabbitMQ reached through ``rabbit_proxy``."""
    target = urlsplit(settings.rabbitmq_url)
    netloc = f"{target.username}:{target.password}@127.0.0.1:{rabbit_proxy.port}"
    return settings.model_copy(update={"rabbitmq_url": target._replace(netloc=netloc).geturl()})


@dataclass
class Tap:
    """An exclusive queue bound to the events exchange: what was published, in order."""

    queue: AbstractQueue
    received: list[AbstractIncomingMessage] = field(default_factory=list)

    async def _drain(self) -> None:
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            self.received.append(message)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[AbstractIncomingMessage]:
        async def enough() -> bool:
            await self._drain()
            return len(self.received) >= count

        await eventually(enough, timeout=timeout, message=f"{count} messages on the tap")
        return self.received

    async def all(self) -> list[AbstractIncomingMessage]:
        await self._drain()
        return self.received


TapFactory = Callable[..., Awaitable[Tap]]


@pytest.fixture
def tap(rabbit: AbstractRobustConnection, settings: ServiceSettings) -> TapFactory:
    async def make(binding: str = "#") -> Tap:
        channel = await rabbit.channel()
        spec = events_exchange(settings)
        exchange = await channel.declare_exchange(
            spec.name, spec.type.value, durable=True, arguments=spec.arguments
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key=binding)
        return Tap(queue)

    return make


CountMessages = Callable[[str], Awaitable[int]]


@pytest.fixture
def count_messages(rabbit: AbstractRobustConnection) -> CountMessages:
    """``await count_messages(queue)``: ready messages in it (unacknowledged ones are not)."""

    async def count(queue: str) -> int:
        channel = await rabbit.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
            return declared.declaration_result.message_count or 0
        finally:
            await channel.close()

    return count


@dataclass
class RelayDatabase:
    """A fresh database with a schema holding an outbox, an inbox and an effect table."""

    engine: AsyncEngine
    metadata: MetaData
    outbox: Table
    inbox: Table
    effects: Table

    def new_engine(self) -> AsyncEngine:
        """Another engine on the same database, as another replica would have."""
        return create_async_engine(self.engine.url, pool_pre_ping=True)


@pytest.fixture
async def relay_db(make_database: MakeDatabase) -> AsyncIterator[RelayDatabase]:
    database = await make_database([])
    url = make_url(database.admin_url).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url, pool_pre_ping=True)
    metadata = MetaData(schema=SCHEMA)
    outbox = outbox_table(metadata)
    inbox = inbox_table(metadata)
    # Deliberately no unique key: a second application of an event would show
    # up as a second row instead of an error.
    effects = Table(
        "effects",
        metadata,
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("n", Integer, nullable=False),
    )
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    yield RelayDatabase(engine, metadata, outbox, inbox, effects)
    await engine.dispose()
