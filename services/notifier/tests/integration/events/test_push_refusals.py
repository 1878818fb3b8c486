"""The push publisher tells Redis saying no from Redis being away: a refusal parks, an outage waits.

A Redis of the test's own (the shared one is never reconfigured) whose only
user may not ``PUBLISH``: the server's genuine error reply.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from notifier.events.push import PushRefusedError, RedisPushPublisher, push_key
from wishlist_shared.outbox import PublishRefusedError
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


@pytest.fixture
async def refusing_redis() -> AsyncIterator[Redis]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        # One directive, its words as separate arguments, as in redis.conf.
        *("--user", "default", "on", "nopass", "~*", "&*", "+@all", "-publish"),
        stdout=asyncio.subprocess.DEVNULL,
    )
    client = Redis(port=port)
    try:
        await eventually(client.ping, message="the private redis-server answers")
        yield client
    finally:
        await client.aclose()
        if server.returncode is None:
            server.terminate()
        await server.wait()


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
