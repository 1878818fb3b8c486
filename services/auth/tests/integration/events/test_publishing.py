"""Auth's events reach RabbitMQ through the outbox, written with the change that caused them."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractQueue

from wishlist_shared.messaging import events_exchange
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace, Stack

if TYPE_CHECKING:
    from conftest import AuthApi

pytestmark = pytest.mark.system


@pytest.fixture
async def user_events(servers: Servers, namespace: Namespace) -> AsyncIterator[AbstractQueue]:
    """A queue of the test's own, bound to every ``auth.*`` event on the test's exchange."""
    connection = await aio_pika.connect(servers.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        # Declared exactly as publishers declare it, so whoever comes first wins.
        spec = events_exchange(ServiceSettings(events_exchange=namespace.exchange))
        exchange = await channel.declare_exchange(
            spec.name, aio_pika.ExchangeType.TOPIC, durable=True, arguments=spec.arguments
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="auth.#")
        yield queue


async def next_event(queue: AbstractQueue) -> tuple[aio_pika.abc.AbstractIncomingMessage, Any]:
    async def receive() -> aio_pika.abc.AbstractIncomingMessage | None:
        return await queue.get(no_ack=True, fail=False)

    message = await eventually(receive, timeout=10, message="no event arrived")
    return message, json.loads(message.body)


async def test_registering_publishes_user_registered(
    auth: AuthApi, user_events: AbstractQueue
) -> None:
    request_id = f"test-{uuid.uuid4().hex}"
    response = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "Gina@Example.com", "password": "long enough", "display_name": "Gina"},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 201
    user = response.json()
    message, envelope = await next_event(user_events)
    assert message.routing_key == "auth.user_registered.v1"
    assert envelope["type"] == "auth.user_registered.v1"
    assert envelope["correlation_id"] == request_id
    assert envelope["payload"] == {
        "user_id": user["id"],
        "email": "gina@example.com",
        "display_name": "Gina",
        "created_at": envelope["payload"]["created_at"],
    }
    assert message.message_id == envelope["id"]


async def test_profile_changes_and_deletion_are_published_in_order(
    auth: AuthApi, user_events: AbstractQueue, stack: Stack
) -> None:
    account = await auth.register(display_name="Hal")
    access = (await auth.tokens(account))["access_token"]
    patched = await auth.http.patch(
        "/api/v1/auth/me", json={"display_name": "Hal 9000"}, headers=auth.bearer(access)
    )
    assert patched.status_code == 200
    deleted = await auth.http.delete("/api/v1/auth/me", headers=auth.bearer(access))
    assert deleted.status_code == 204

    seen = [await next_event(user_events) for _ in range(3)]
    assert [m.routing_key for m, _ in seen] == [
        "auth.user_registered.v1",
        "auth.user_updated.v1",
        "auth.user_deleted.v1",
    ]
    assert seen[1][1]["payload"] == {
        "user_id": account.user["id"],
        "email": account.email,
        "display_name": "Hal 9000",
    }
    assert seen[2][1]["payload"] == {"user_id": account.user["id"]}

    # The relay marks its rows once RabbitMQ confirmed the whole window, so a
    # consumer may hold an event a moment before its row says published.
    async def all_published() -> bool:
        conn = await asyncpg.connect(stack.database.admin_url)
        try:
            rows = await conn.fetch("SELECT routing_key, state FROM auth.outbox ORDER BY id")
        finally:
            await conn.close()
        assert [(r["routing_key"], r["state"]) for r in rows] == [
            ("auth.user_registered.v1", "published"),
            ("auth.user_updated.v1", "published"),
            ("auth.user_deleted.v1", "published"),
        ]
        return True

    await eventually(all_published, timeout=10)


async def test_a_refused_registration_publishes_nothing(auth: AuthApi, stack: Stack) -> None:
    await auth.register("ivy@example.com")
    response = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "IVY@example.com", "password": "long enough", "display_name": "Ivy"},
    )
    assert response.status_code == 409
    conn = await asyncpg.connect(stack.database.admin_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM auth.outbox")
    finally:
        await conn.close()
    assert count == 1
