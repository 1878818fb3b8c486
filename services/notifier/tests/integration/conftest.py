"""Fixtures of the notifier's integration tests: auth and the notifier as processes, and the bus.

Most tests share one platform for the session (auth and one notifier, one
database, one namespace of queues), each with users of its own: starting the
processes is the slow part. Tests that kill or duplicate the notifier use the
per-test ``stack``. Events are published by the test itself, as wishlists and
auth would publish them, onto the namespace's exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wishlist_shared.events import Envelope, EventPayload, ItemSnapshot, WishlistRef, dump
from wishlist_shared.messaging import events_exchange, queue_name
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing import snapshots
from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.smtp import SmtpSink, running_sink
from wishlist_shared.testing.stack import Namespace, Stack

API = "/api/v1"
PASSWORD = "correct horse battery"
PURPOSES = (
    "wishlist_shared",
    "item_added",
    "item_reserved",
    "item_deleted",
    "user_deleted",
    "user_registered",
    "user_updated",
    "password_reset_requested",
    "share_invited",
    "wishlist_shared_v2",
    "group_member_added",
    "group_invited",
    "item_suggested",
    "item_received",
    "wishlist_revealed",
    "wishlist_revealed_v2",
)


@dataclass
class User:
    id: uuid.UUID
    display_name: str
    access_token: str
    email: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def wishlist_ref(owner: User, title: str = "Birthday") -> WishlistRef:
    return WishlistRef(
        id=uuid.uuid4(),
        title=title,
        owner_id=owner.id,
        owner_display_name=owner.display_name,
        occasion_date=None,
    )


def item_snapshot(title: str = "A book") -> ItemSnapshot:
    return snapshots.item_snapshot(title, price="19.99", currency="EUR", priority=0)


class Bus:
    """Publishes events onto a namespace's exchange, as their services' outbox relays do."""

    def __init__(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.exchange = exchange

    async def publish(self, envelope: Envelope[Any]) -> None:
        await self.exchange.publish(
            aio_pika.Message(
                json.dumps(dump(envelope)).encode(),
                message_id=str(envelope.id),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.type,
        )

    async def send(self, payload: EventPayload) -> Envelope[Any]:
        envelope: Envelope[Any] = Envelope.wrap(payload)
        await self.publish(envelope)
        return envelope


@contextlib.asynccontextmanager
async def open_bus(servers: Servers, namespace: Namespace) -> AsyncIterator[Bus]:
    settings = ServiceSettings(
        rabbitmq_url=servers.rabbitmq_url,
        events_exchange=namespace.exchange,
        queue_prefix=namespace.queue_prefix,
    )
    connection = await aio_pika.connect(servers.rabbitmq_url, timeout=30)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        spec = events_exchange(settings)
        # Declared exactly as the services declare it, whoever comes first.
        exchange = await channel.declare_exchange(
            spec.name,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            arguments=dict(spec.arguments or {}),
        )

        async def queue_exists(name: str) -> bool:
            probe = await connection.channel()
            try:
                await probe.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            finally:
                if not probe.is_closed:
                    await probe.close()
            return True

        async def queues_bound() -> bool:
            # The notifier declares its queues once its broker is connected,
            # which may be just after it answers /healthz. A busy RabbitMQ may
            # not answer a probe at all for a while: that is a "not yet" too.
            for purpose in PURPOSES:
                name = queue_name(settings, service="notifier", purpose=purpose)
                try:
                    if not await asyncio.wait_for(queue_exists(name), timeout=10):
                        return False
                except TimeoutError:
                    return False
            return True

        # RabbitMQ declares quorum queues slowly when the machine is busy.
        await eventually(queues_bound, timeout=60, message="the notifier never declared its queues")
        yield Bus(exchange)


@dataclass
class Platform:
    stack: Stack
    auth: httpx.AsyncClient
    notifier: httpx.AsyncClient
    bus: Bus
    db: AsyncEngine
    sink: SmtpSink
    """Where the notifier sends its emails."""
    # Payload parts, here because tests cannot import this conftest.
    wishlist_ref = staticmethod(wishlist_ref)
    item_snapshot = staticmethod(item_snapshot)

    async def user(self, display_name: str = "Alice") -> User:
        """A new account on auth, logged in."""
        email = f"u-{uuid.uuid4().hex[:12]}@example.com"
        registered = await self.auth.post(
            f"{API}/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": display_name},
        )
        assert registered.status_code == 201, registered.text
        login = await self.auth.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return User(
            uuid.UUID(registered.json()["id"]),
            display_name,
            login.json()["access_token"],
            email,
        )

    async def users(self, *names: str) -> list[User]:
        return list(await asyncio.gather(*(self.user(name) for name in names)))

    async def notifications(self, user: User, **params: Any) -> dict[str, Any]:
        response = await self.notifier.get(f"{API}/notifications", params=params, headers=user.auth)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    async def unread_count(self, user: User) -> int:
        response = await self.notifier.get(f"{API}/notifications/unread-count", headers=user.auth)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    async def wait_for(self, user: User, count: int, **params: Any) -> list[dict[str, Any]]:
        """``user``'s notifications once there are ``count`` of them (never more)."""

        async def arrived() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (await self.notifications(user, limit=200, **params))[
                "items"
            ]
            assert len(items) <= count, items
            assert len(items) == count, f"{len(items)} of {count}"
            return items

        return await eventually(arrived, timeout=30, message=f"{user.display_name} was not told")

    async def rows_of(self, recipient: uuid.UUID) -> int:
        """How many notifications ``recipient`` has, as stored."""
        async with self.db.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM notifier.notifications WHERE recipient_id = :r"),
                {"r": recipient},
            )
            return int(count or 0)

    async def rows(self, event_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(event, recipient) of every notification of these events, as stored."""
        async with self.db.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT event_id, recipient_id FROM notifier.notifications"
                    " WHERE event_id = ANY(:ids)"
                ),
                {"ids": event_ids},
            )
            return [(row.event_id, row.recipient_id) for row in result]


@contextlib.asynccontextmanager
async def platform_on(stack: Stack, sink: SmtpSink) -> AsyncIterator[Platform]:
    """Auth and a notifier started on ``stack``, with clients for them and the bus."""
    await stack.start("auth")
    await stack.start("notifier", **sink.notifier_settings())
    engine = create_async_engine(stack.database.urls["notifier"])
    try:
        async with (
            httpx.AsyncClient(base_url=stack.url("auth"), timeout=15) as auth,
            httpx.AsyncClient(base_url=stack.url("notifier"), timeout=15) as notifier,
            open_bus(stack.servers, stack.namespace) as bus,
        ):
            yield Platform(stack, auth, notifier, bus, engine, sink)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def session_sink() -> Iterator[SmtpSink]:
    yield from running_sink()


@pytest.fixture(scope="session")
async def platform(
    servers: Servers, database_factory: DatabaseFactory, session_sink: SmtpSink
) -> AsyncIterator[Platform]:
    """Auth and the notifier, running for the whole session."""
    database = await database_factory.create(["auth", "wishlists", "notifier"])
    async with fresh_namespace(servers) as namespace:
        stack = Stack(servers, database, namespace)
        try:
            async with platform_on(stack, session_sink) as running:
                yield running
        finally:
            await stack.stop()
            await database_factory.drop(database.name)


@pytest.fixture
async def own_platform(stack: Stack, smtp_sink: SmtpSink) -> AsyncIterator[Platform]:
    """A platform of this test's own, whose notifier it may kill or duplicate."""
    async with platform_on(stack, smtp_sink) as running:
        yield running


PrivateRedis = Callable[..., Awaitable[Redis]]
"""Starts a redis-server of the test's own whose default user gets the given ACL words."""


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    """redis-servers of the test's own (the shared one is never reconfigured), stopped after it.

    Called with the words of a ``user default on nopass ...`` directive after
    ``nopass``, as in redis.conf: what the server lets the client do, so that
    a refusal is the server's genuine error reply.
    """
    started: list[tuple[asyncio.subprocess.Process, Redis]] = []

    async def start(*acl: str) -> Redis:
        port = free_port()
        server = await asyncio.create_subprocess_exec(
            "redis-server",
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            # One directive, its words as separate arguments.
            *("--user", "default", "on", "nopass", *acl),
            stdout=asyncio.subprocess.DEVNULL,
        )
        client = Redis(port=port)
        started.append((server, client))
        await eventually(client.ping, message="the private redis-server answers")
        return client

    try:
        yield start
    finally:
        for server, client in started:
            await client.aclose()
            if server.returncode is None:
                server.terminate()
            await server.wait()
