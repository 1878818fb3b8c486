"""pytest fixtures of the fixture layer; the repository's root conftest loads this plugin."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import aio_pika
import pytest
from redis.asyncio import Redis

from wishlist_shared.deliveries import platform_queues
from wishlist_shared.messaging import dead_letter_queue_name
from wishlist_shared.revocation import RevocationList
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.databases import DatabaseFactory, TestDatabase
from wishlist_shared.testing.servers import Servers, discover
from wishlist_shared.testing.smtp import SmtpSink, running_sink
from wishlist_shared.testing.stack import Namespace, Stack

MakeDatabase = Callable[[Sequence[str]], Awaitable[TestDatabase]]


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with discover() as found:
        yield found


@pytest.fixture(scope="session")
async def database_factory(
    servers: Servers, pytestconfig: pytest.Config
) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(servers.postgres_admin_url, Path(pytestconfig.rootpath))
    yield factory
    await factory.drop_templates()


@pytest.fixture
async def make_database(database_factory: DatabaseFactory) -> AsyncIterator[MakeDatabase]:
    """``await make_database(["auth"])``: a fresh, migrated database for this test."""
    created: list[str] = []

    async def make(services: Sequence[str]) -> TestDatabase:
        db = await database_factory.create(services)
        created.append(db.name)
        return db

    yield make
    for name in created:
        await database_factory.drop(name)


@contextlib.asynccontextmanager
async def fresh_namespace(servers: Servers) -> AsyncIterator[Namespace]:
    """Names no other test uses; their Redis keys and exchanges are removed afterwards.

    Its revocation list starts sealed, as auth leaves it once running, so that
    tests without auth can verify tokens.
    """
    ns = Namespace.fresh()
    await seal_revocations(servers, ns)
    try:
        yield ns
    finally:
        await _remove_namespace(servers, ns)


async def _remove_namespace(servers: Servers, ns: Namespace) -> None:
    redis = Redis.from_url(servers.redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{ns.redis_prefix}*", count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(servers.rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            # Deleted now rather than left to expire: every quorum queue is a
            # Raft group, and a suite's worth of them alive at once slows the
            # broker enough to time out connections. Deleting a missing queue
            # is a no-op.
            for queue in namespace_queues(servers, ns):
                await channel.queue_delete(queue)
            for exchange in (ns.exchange, f"{ns.exchange}.dlx", f"{ns.exchange}.unrouted"):
                await channel.exchange_delete(exchange)


def namespace_queues(servers: Servers, ns: Namespace) -> list[str]:
    """Every queue the platform declares in ``ns``: consumer queues, their DLQs, unrouted."""
    settings = ServiceSettings(
        rabbitmq_url=servers.rabbitmq_url,
        events_exchange=ns.exchange,
        queue_prefix=ns.queue_prefix,
    )
    consumers = platform_queues(settings)
    return [
        *consumers,
        *(dead_letter_queue_name(q) for q in consumers),
        f"{ns.exchange}.unrouted",
    ]


async def seal_revocations(servers: Servers, ns: Namespace) -> None:
    redis = Redis.from_url(servers.redis_url)
    try:
        await RevocationList(redis, ns.redis_prefix).restore([])
    finally:
        await redis.aclose()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A recording SMTP server on 127.0.0.1 for this test (``sink.notifier_settings()``)."""
    yield from running_sink()


@pytest.fixture
async def namespace(servers: Servers) -> AsyncIterator[Namespace]:
    async with fresh_namespace(servers) as ns:
        yield ns


@pytest.fixture
async def redis(servers: Servers) -> AsyncIterator[Redis]:
    client = Redis.from_url(servers.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def stack(
    servers: Servers, make_database: MakeDatabase, namespace: Namespace
) -> AsyncIterator[Stack]:
    """The platform's processes for this test; start the ones it needs with ``stack.start``."""
    database = await make_database(["auth", "wishlists", "notifier"])
    s = Stack(servers, database, namespace)
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture(scope="session")
async def session_stack(
    servers: Servers, database_factory: DatabaseFactory
) -> AsyncIterator[Stack]:
    """One platform's processes shared by the tests that need a whole running system
    and take long to set up around it (the web app's browser and proxy tests).

    Its tests must not depend on each other's data: each makes its own users.
    """
    async with fresh_namespace(servers) as ns:
        database = await database_factory.create(["auth", "wishlists", "notifier"])
        s = Stack(servers, database, ns)
        try:
            yield s
        finally:
            await s.stop()
            await database_factory.drop(database.name)
