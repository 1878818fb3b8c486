"""The push publisher tells Redis saying no from Redis being away: a refusal parks, an outage waits.

A Redis of the test's own (the shared one is never reconfigured) whose only
user may not ``PUBLISH``: the server's genuine error reply.
"""

from __future__ import annotations

import shutil
import uuid
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from notifier.events.push import PushRefusedError, RedisPushPublisher, push_key
from wishlist_shared.outbox import PublishRefusedError
from wishlist_shared.testing.processes import free_port

if TYPE_CHECKING:
    from conftest import PrivateRedis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


@pytest.fixture
async def refusing_redis(private_redis: PrivateRedis) -> Redis:
    return await private_redis("~*", "&*", "+@all", "-publish")


async def push(redis: Redis) -> None:
    await RedisPushPublisher(redis, "t:").publish(
        push_key(uuid.uuid4()), {"type": "notification"}, message_id="m", headers={}
    )


async def test_an_error_reply_from_redis_is_a_refusal(refusing_redis: Redis) -> None:
    with pytest.raises(PushRefusedError) as refused:
        await push(refusing_redis)
    assert isinstance(refused.value, PublishRefusedError)
    # The "NOPERM ... publish" reply, as redis-py raises it.
    assert isinstance(refused.value.__cause__, NoPermissionError)


async def test_redis_out_of_reach_is_an_outage_not_a_refusal() -> None:
    unreachable = Redis(port=free_port(), socket_connect_timeout=1)
    try:
        with pytest.raises(Exception) as failed:  # noqa: PT011 - whatever the client raises
            await push(unreachable)
    finally:
        await unreachable.aclose()
    assert not isinstance(failed.value, PublishRefusedError), failed.value
