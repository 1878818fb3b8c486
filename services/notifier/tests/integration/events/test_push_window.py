"""The push publisher sends a relay batch as one pipeline: every push, in order, each answered.

A Redis of the test's own (the shared one is never reconfigured) whose only
user may publish on some channels only: a genuine error reply for one push in
the middle of a batch.
"""

from __future__ import annotations

import json
import shutil
import uuid
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import NoPermissionError

from notifier.events.push import PushRefusedError, RedisPushPublisher, channel, push_key
from wishlist_shared.outbox import OutgoingMessage
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import PrivateRedis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")

PREFIX = "t:"
REFUSED_USER = uuid.UUID("ffffffff-0000-4000-8000-000000000000")
"""Its channel is outside what the server lets the client publish on."""


@pytest.fixture
async def redis(private_redis: PrivateRedis) -> Redis:
    return await private_redis(
        # Publishing allowed on the channels of users whose id starts 0-e.
        "~*",
        f"&{PREFIX}notifications:[0-9a-e]*",
        "+@all",
    )


def push(user_id: uuid.UUID, n: int) -> OutgoingMessage:
    return OutgoingMessage(push_key(user_id), {"type": "notification", "n": n}, f"m{n}", {})


async def received(pubsub: PubSub, count: int) -> list[dict[str, object]]:
    got: list[dict[str, object]] = []

    async def enough() -> bool:
        while (
            message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        ) is not None:
            got.append(json.loads(message["data"]))
        return len(got) >= count

    await eventually(enough, message=f"{count} pushes")
    return got


async def test_a_batch_is_one_pipeline_delivering_every_push_in_order(redis: Redis) -> None:
    user = uuid.UUID("0a000000-0000-4000-8000-000000000000")
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(PREFIX, user))
    try:
        sends: list[int] = []
        connection = await redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
        await redis.connection_pool.release(connection)
        send_packed = connection.send_packed_command

        async def counted(command: object, check_health: bool = True) -> None:
            sends.append(1)
            await send_packed(command, check_health)

        connection.send_packed_command = counted
        outcomes = await RedisPushPublisher(redis, PREFIX).publish_many(
            [push(user, n) for n in range(100)]
        )
        assert outcomes == [None] * 100
        assert sends == [1]  # the whole batch written at once: one round trip
        assert [m["n"] for m in await received(pubsub, 100)] == list(range(100))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_an_error_reply_refuses_that_push_only_and_the_others_go_out(redis: Redis) -> None:
    user = uuid.UUID("0b000000-0000-4000-8000-000000000000")
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(PREFIX, user))
    try:
        outcomes = await RedisPushPublisher(redis, PREFIX).publish_many(
            [push(user, 1), push(REFUSED_USER, 2), push(user, 3)]
        )
        first, refused, third = outcomes
        assert first is None
        assert third is None
        assert isinstance(refused, PushRefusedError)
        assert isinstance(refused.__cause__, NoPermissionError)
        assert [m["n"] for m in await received(pubsub, 2)] == [1, 3]
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
