"""API10:2023 Unsafe consumption of APIs: here, the events the services consume.

A message on a consumer's queue is data from another process and is checked
like a request: not JSON, not the event's schema, or larger than
``MAX_EVENT_BYTES`` — each is dead-lettered unread (visible in the queue's
``.dlq`` for an operator), has no effect, and the consumer keeps serving real
events. The gateway treats what arrives on Redis pub/sub the same way: a
malformed push is dropped, the socket stays open. Real RabbitMQ and Redis.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aio_pika
import pytest
from redis.asyncio import Redis

from wishlist_shared.events import (
    MAX_EVENT_BYTES,
    Envelope,
    ItemAdded,
    ItemSnapshot,
    UserRegistered,
    WishlistRef,
    dump,
)
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Person, Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]


def _item_added(owner: Person, viewer: Person, title: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    payload = ItemAdded(
        wishlist=WishlistRef(
            id=uuid.uuid4(),
            title="Forged",
            owner_id=uuid.UUID(owner.id),
            owner_display_name="Olga",
            occasion_date=None,
        ),
        item=ItemSnapshot(
            id=uuid.uuid4(),
            title=title,
            url=None,
            price=None,
            currency=None,
            image_url=None,
            quantity=1,
            priority=3,
            notes=None,
            created_at=now,
            updated_at=now,
        ),
        recipient_ids=(uuid.UUID(viewer.id),),
    )
    return dump(Envelope.wrap(payload))


async def _publish(platform: Platform, routing_key: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(platform.stack.servers.rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(platform.stack.namespace.exchange)
        for body in bodies:
            message = aio_pika.Message(
                body,
                message_id=str(uuid.uuid4()),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            await exchange.publish(message, routing_key=routing_key)


async def _waiting(platform: Platform, queue: str) -> int:
    connection = await aio_pika.connect(platform.stack.servers.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(
            platform.stack.namespace.queue_prefix + queue, passive=True
        )
        return declared.declaration_result.message_count or 0


async def test_malformed_and_oversized_events_are_dead_lettered_and_the_consumer_goes_on(
    platform: Platform,
) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, _ = await platform.shared_list(owner, viewer)
    before = await _waiting(platform, "notifier.item_added.dlq")
    oversized = _item_added(owner, viewer, "x" * (MAX_EVENT_BYTES + 1))
    bodies = [
        b"\x00\xffnot json at all",
        b'{"id": "not-a-uuid", "type": "wishlists.item_added.v1", "payload": {}}',
        json.dumps(
            {**_item_added(owner, viewer, "ok"), "payload": {"recipient_ids": "all"}}
        ).encode(),
        json.dumps(oversized).encode(),
    ]
    await _publish(platform, ItemAdded.routing_key, bodies)
    await eventually(
        lambda: _dead_lettered(platform, "notifier.item_added.dlq", before + len(bodies)),
        timeout=60,
        message="the bad messages never reached the dead-letter queue",
    )
    # None of them had an effect...
    assert [n["kind"] for n in await platform.notifications(viewer)] == ["wishlist_shared"]
    # ...and the consumer still handles a real event.
    item = await platform.ok(owner, "POST", f"/wishlists/{wid}/items", {"title": "Real"})
    arrived = await eventually(
        lambda: _told_of(platform, viewer, item["id"]), timeout=60, message="consumer stuck"
    )
    assert arrived["data"]["item"]["title"] == "Real"
    assert await _waiting(platform, "notifier.item_added") == 0


async def test_a_bad_event_from_auth_is_dead_lettered_by_wishlists(platform: Platform) -> None:
    before = await _waiting(platform, "wishlists.user_registered.dlq")
    huge_name = {
        "id": str(uuid.uuid4()),
        "type": UserRegistered.routing_key,
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": "x",
        "payload": {
            "user_id": str(uuid.uuid4()),
            "email": "planted@example.com",
            "display_name": "n" * (MAX_EVENT_BYTES + 1),
            "created_at": datetime.now(UTC).isoformat(),
        },
    }
    bodies = [b"[]", json.dumps(huge_name).encode()]
    await _publish(platform, UserRegistered.routing_key, bodies)
    await eventually(
        lambda: _dead_lettered(platform, "wishlists.user_registered.dlq", before + len(bodies)),
        timeout=60,
        message="the bad messages never reached the dead-letter queue",
    )
    rows = await platform.sql(
        "SELECT count(*) AS n FROM wishlists.users WHERE email = 'planted@example.com'"
    )
    assert rows[0]["n"] == 0
    # Registrations still flow: a new user can be shared with at once.
    owner, newcomer = await platform.person("Olga"), await platform.person("Nia")
    await platform.shared_list(owner, newcomer)


async def test_a_malformed_push_on_redis_is_dropped_and_the_socket_stays(
    platform: Platform,
) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, _ = await platform.shared_list(owner, viewer)
    channel = f"{platform.stack.namespace.redis_prefix}notifications:{viewer.id}"
    redis = Redis.from_url(platform.stack.servers.redis_url)
    try:
        async with platform.socket(viewer.headers) as ws:
            for junk in ("not json", "{}", '{"type": "notification"}', "[1, 2]"):
                assert await redis.publish(channel, junk) >= 1
            item = await platform.ok(owner, "POST", f"/wishlists/{wid}/items", {"title": "Live"})
            # The share's own notification may still be on its way to the socket.
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 45))
                if message["notification"]["kind"] == "item_added":
                    break
                assert message["notification"]["kind"] == "wishlist_shared", message
            assert message["notification"]["data"]["item"]["id"] == item["id"]
    finally:
        await redis.aclose()


async def _dead_lettered(platform: Platform, queue: str, count: int) -> bool:
    return await _waiting(platform, queue) >= count


async def _told_of(platform: Platform, who: Person, item_id: str) -> dict[str, Any] | None:
    for n in await platform.notifications(who):
        if n["kind"] == "item_added" and n["data"]["item"]["id"] == item_id:
            return n
    return None
