"""Pushes to the gateway over Redis pub/sub: the contract's channel and message shape."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from redis.asyncio import Redis

from wishlist_shared.events import ItemAdded, ItemReserved
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = pytest.mark.system

BURST = 40


async def test_a_subscriber_on_the_users_channel_receives_the_rest_shape(
    platform: Platform, redis: Redis
) -> None:
    owner, viewer = await platform.users("Olga", "Vic")
    channel = f"{platform.stack.namespace.redis_prefix}notifications:{viewer.id}"
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        await platform.bus.send(
            ItemReserved(
                wishlist=platform.wishlist_ref(owner),
                item=platform.item_snapshot("Kite"),
                reserved_quantity=1,
                recipient_ids=(viewer.id,),
            )
        )

        async def pushed() -> dict[str, Any] | None:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            return json.loads(message["data"]) if message else None

        body = await eventually(pushed, timeout=30, message="nothing was pushed")
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()
    (stored,) = (await platform.notifications(viewer))["items"]
    assert body == {"type": "notification", "notification": stored}
    assert body["notification"]["kind"] == "item_reserved"


async def test_pushes_to_one_user_arrive_in_the_order_of_after(
    platform: Platform, redis: Redis
) -> None:
    owner, viewer = await platform.users("Olga", "Pia")
    channel = f"{platform.stack.namespace.redis_prefix}notifications:{viewer.id}"
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    received: list[str] = []
    try:
        ref = platform.wishlist_ref(owner)
        # Published at once: handled concurrently (prefetch), by several
        # transactions that race for the same recipient.
        for n in range(BURST):
            await platform.bus.send(
                ItemAdded(
                    wishlist=ref,
                    item=platform.item_snapshot(f"item {n}"),
                    recipient_ids=(viewer.id,),
                )
            )

        async def all_pushed() -> bool:
            while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1):
                received.append(json.loads(message["data"])["notification"]["id"])
            assert len(received) <= BURST
            return len(received) == BURST

        await eventually(all_pushed, timeout=20, message="pushes were lost")
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()
    newest_first = (await platform.notifications(viewer, limit=200))["items"]
    oldest = newest_first[-1]["id"]
    after = (await platform.notifications(viewer, after=oldest, limit=200))["items"]
    assert received == [oldest] + [n["id"] for n in after]
