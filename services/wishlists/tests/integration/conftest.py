"""Fixtures of wishlists' integration tests: the real platform, and clients that speak its API.

Most tests share one platform for the session (auth, wishlists and the gateway
as processes, with one database and one namespace of queues), each test with
accounts and lists of its own: starting the processes is the slow part.
Tests that stop, crash or duplicate processes use the per-test ``stack``.

Accounts are registered and logged in on auth directly: registration is not
under test here, and Argon2 makes it the cost to keep down. Everything about
wishlists goes through the gateway, as a client's requests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import pytest

from wishlist_shared.messaging import events_exchange
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Stack

PASSWORD = "correct horse battery"
API = "/api/v1"
# The gateway's per-client limits are not under test here; many requests
# from 127.0.0.1 within a minute must not turn into 429s.
GATEWAY_LIMITS = {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"}


@dataclass
class User:
    id: str
    email: str
    display_name: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Api:
    """The platform as a test uses it: accounts on auth, everything else through the gateway."""

    gateway: httpx.AsyncClient
    auth: httpx.AsyncClient

    async def register(
        self, display_name: str = "Alice", email: str | None = None
    ) -> dict[str, Any]:
        email = email or f"u-{uuid.uuid4().hex[:12]}@example.com"
        response = await self.auth.post(
            f"{API}/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": display_name},
        )
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        return user

    async def login(self, email: str) -> str:
        response = await self.auth.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def user(self, display_name: str = "Alice", email: str | None = None) -> User:
        """A new account, logged in."""
        registered = await self.register(display_name, email)
        token = await self.login(registered["email"])
        return User(registered["id"], registered["email"], display_name, token)

    async def users(self, *names: str) -> list[User]:
        return list(await asyncio.gather(*(self.user(name) for name in names)))

    # --- wishlists ---------------------------------------------------------------

    async def create_list(self, owner: User, **fields: Any) -> dict[str, Any]:
        body = {"title": "Birthday"} | fields
        response = await self.gateway.post(f"{API}/wishlists", json=body, headers=owner.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def add_item(self, owner: User, wishlist_id: str, **fields: Any) -> dict[str, Any]:
        body = {"title": "A book"} | fields
        response = await self.gateway.post(
            f"{API}/wishlists/{wishlist_id}/items", json=body, headers=owner.auth
        )
        assert response.status_code == 201, response.text
        item: dict[str, Any] = response.json()
        return item

    async def get_list(self, user: User, wishlist_id: str) -> httpx.Response:
        return await self.gateway.get(f"{API}/wishlists/{wishlist_id}", headers=user.auth)

    async def share(self, owner: User, wishlist_id: str, email: str) -> httpx.Response:
        return await self.gateway.post(
            f"{API}/wishlists/{wishlist_id}/shares", json={"email": email}, headers=owner.auth
        )

    async def make_viewer(self, owner: User, wishlist_id: str, viewer: User) -> None:
        """Shares the list with ``viewer`` and waits until they see it.

        A share to an address wishlists has not heard registered yet is
        pending until auth's event arrives; either way it ends up active.
        """
        response = await self.share(owner, wishlist_id, viewer.email)
        assert response.status_code in (200, 201), response.text

        async def sees() -> bool:
            return (await self.get_list(viewer, wishlist_id)).status_code == 200

        await eventually(sees, message=f"{viewer.display_name} never saw the list")

    async def reserve(
        self, viewer: User, wishlist_id: str, item_id: str, quantity: int | None = None
    ) -> httpx.Response:
        body = {} if quantity is None else {"quantity": quantity}
        return await self.gateway.post(
            f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations",
            json=body,
            headers=viewer.auth,
        )


@dataclass
class Platform:
    stack: Stack
    api: Api


@contextlib.asynccontextmanager
async def clients(stack: Stack) -> AsyncIterator[Api]:
    async with (
        httpx.AsyncClient(base_url=stack.url("gateway"), timeout=15) as gateway,
        httpx.AsyncClient(base_url=stack.url("auth"), timeout=15) as auth,
    ):
        yield Api(gateway, auth)


@pytest.fixture(scope="session")
async def platform(servers: Servers, database_factory: DatabaseFactory) -> AsyncIterator[Platform]:
    """Auth, wishlists and the gateway, running for the whole session."""
    database = await database_factory.create(["auth", "wishlists", "notifier"])
    async with fresh_namespace(servers) as namespace:
        stack = Stack(servers, database, namespace)
        try:
            await stack.start("auth")
            await stack.start("wishlists")
            await stack.start("gateway", **GATEWAY_LIMITS)
            async with clients(stack) as api:
                yield Platform(stack, api)
        finally:
            await stack.stop()
            await database_factory.drop(database.name)


@pytest.fixture
def api(platform: Platform) -> Api:
    return platform.api


@pytest.fixture
async def own_stack(stack: Stack) -> AsyncIterator[Api]:
    """A platform of this test's own (auth, wishlists, gateway), to stop or duplicate parts of."""
    await stack.start("auth")
    await stack.start("wishlists")
    await stack.start("gateway", **GATEWAY_LIMITS)
    async with clients(stack) as api:
        yield api


# --- watching the bus ------------------------------------------------------------


@dataclass
class Published:
    routing_key: str
    body: dict[str, Any]

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.body["payload"]
        return payload


@dataclass
class EventLog:
    """Every wishlists event published on the namespace's exchange while the test runs."""

    seen: list[Published] = field(default_factory=list)

    def of(
        self, routing_key: str, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> list[Published]:
        return [e for e in self.seen if e.routing_key == routing_key and where(e.payload)]


async def watch_events(
    rabbitmq_url: str, exchange: str, pattern: str = "wishlists.#"
) -> tuple[EventLog, Callable[[], Any]]:
    settings = ServiceSettings(rabbitmq_url=rabbitmq_url, events_exchange=exchange)
    connection = await aio_pika.connect(rabbitmq_url)
    channel = await connection.channel()
    spec = events_exchange(settings)
    # Declared exactly as the services declare it, whoever comes first.
    declared = await channel.declare_exchange(
        spec.name, aio_pika.ExchangeType.TOPIC, durable=True, arguments=dict(spec.arguments or {})
    )
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(declared, routing_key=pattern)
    log = EventLog()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            log.seen.append(Published(message.routing_key or "", json.loads(message.body)))

    await queue.consume(on_message)
    return log, connection.close


@pytest.fixture
async def bus(platform: Platform) -> AsyncIterator[EventLog]:
    """Wishlists' events on the shared platform's bus from now on."""
    log, close = await watch_events(
        platform.stack.servers.rabbitmq_url, platform.stack.namespace.exchange
    )
    yield log
    await close()


@pytest.fixture
async def stack_bus(stack: Stack, own_stack: Api) -> AsyncIterator[EventLog]:
    """Wishlists' events on the bus of this test's own platform from now on."""
    log, close = await watch_events(stack.servers.rabbitmq_url, stack.namespace.exchange)
    yield log
    await close()
