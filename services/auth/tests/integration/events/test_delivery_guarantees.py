"""Auth's events survive a broker outage and a lost outbox mark, with one effect each.

These run the real auth process and a real consumer (the shared subscriber and
inbox, as every service uses them) against the real RabbitMQ.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from wishlist_shared import inbox
from wishlist_shared.events import Envelope, UserRegistered
from wishlist_shared.messaging import create_broker, run_broker, subscribe
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace, Stack

if TYPE_CHECKING:
    from conftest import AuthApi, StartAuth

pytestmark = pytest.mark.system

CONSUMER = "delivery-test"
metadata = sa.MetaData(schema="consumer")
inbox_rows = inbox.inbox_table(metadata)
welcomed = sa.Table(
    "welcomed",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.Uuid, nullable=False),
)


@dataclass
class Consumer:
    """Welcomes each registered user: one row per event, deduplicated by the inbox."""

    engine: AsyncEngine
    deliveries: list[uuid.UUID] = field(default_factory=list)

    async def handle(self, envelope: Envelope[UserRegistered]) -> None:
        self.deliveries.append(envelope.id)
        # The claim and the effect commit together, or neither does.
        async with AsyncSession(self.engine) as session, session.begin():
            if await inbox.claim(session, inbox_rows, CONSUMER, envelope.id):
                await session.execute(welcomed.insert().values(user_id=envelope.payload.user_id))

    async def welcomed(self, user_id: str) -> int:
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(welcomed)
                .where(welcomed.c.user_id == user_id)
            )
        return int(count or 0)


@pytest.fixture
async def consumer(stack: Stack, servers: Servers, namespace: Namespace) -> AsyncIterator[Consumer]:
    url = stack.database.admin_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA consumer"))
        await conn.run_sync(metadata.create_all)
    consumer = Consumer(engine)
    settings = ServiceSettings(
        rabbitmq_url=servers.rabbitmq_url,
        events_exchange=namespace.exchange,
        queue_prefix=namespace.queue_prefix,
        queue_expiry_seconds=600,
    )
    broker = create_broker(settings, service=CONSUMER)
    subscribe(
        broker,
        settings,
        service=CONSUMER,
        purpose="users",
        payload_type=UserRegistered,
        handler=consumer.handle,
    )
    async with run_broker(broker, settings):
        # The queue must exist before auth publishes, or the event is parked
        # in the unrouted queue instead of reaching this consumer.
        await eventually(lambda: broker.ping(timeout=1), message="consumer never connected")
        yield consumer
    await engine.dispose()


async def outbox_state(stack: Stack, user_id: str) -> str | None:
    conn = await asyncpg.connect(stack.database.admin_url)
    try:
        state: str | None = await conn.fetchval(
            "SELECT state FROM auth.outbox WHERE body->'payload'->>'user_id' = $1",
            user_id,
        )
    finally:
        await conn.close()
    return state


async def published(stack: Stack, user_id: str) -> bool:
    """Whether the user's event is marked published: the relay marks a window's
    rows once RabbitMQ confirmed all of it, so a consumer may have it first."""
    return await outbox_state(stack, user_id) == "published"


async def test_registration_succeeds_while_rabbitmq_is_unreachable_and_its_event_arrives_after(
    start_auth: StartAuth, consumer: Consumer, servers: Servers, stack: Stack
) -> None:
    rabbit = urlsplit(servers.rabbitmq_url)
    proxy = TcpProxy(rabbit.hostname or "127.0.0.1", rabbit.port or 5672)
    await proxy.start()
    try:
        proxied = servers.rabbitmq_url.replace(
            rabbit.netloc.split("@")[-1], f"127.0.0.1:{proxy.port}"
        )
        auth: AuthApi = await start_auth(AUTH_RABBITMQ_URL=proxied)
        proxy.cut()

        account = await auth.register(display_name="Offline Olga")
        user_id = account.user["id"]
        assert await outbox_state(stack, user_id) == "pending"
        assert await consumer.welcomed(user_id) == 0

        proxy.restore()
        await eventually(lambda: consumer.welcomed(user_id), timeout=30, message="never welcomed")
        await eventually(lambda: published(stack, user_id), message="never marked published")
        assert await consumer.welcomed(user_id) == 1
    finally:
        await proxy.stop()


async def test_an_event_published_again_after_a_lost_mark_has_one_effect(
    auth: AuthApi, consumer: Consumer, stack: Stack
) -> None:
    account = await auth.register(display_name="Twice Tim")
    user_id = account.user["id"]
    await eventually(lambda: consumer.welcomed(user_id), message="first delivery never handled")

    # What a relay dying after RabbitMQ confirmed, before its mark committed,
    # leaves behind: the row is still pending, so it is published again.
    conn = await asyncpg.connect(stack.database.admin_url)
    try:
        await conn.execute(
            "UPDATE auth.outbox SET state = 'pending', published_at = NULL"
            " WHERE body->'payload'->>'user_id' = $1",
            user_id,
        )
    finally:
        await conn.close()

    await eventually(lambda: len(consumer.deliveries) == 2, timeout=15, message="not redelivered")
    assert consumer.deliveries[0] == consumer.deliveries[1]
    await eventually(lambda: published(stack, user_id), message="never marked published")
    assert await consumer.welcomed(user_id) == 1
