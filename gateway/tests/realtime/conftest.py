"""Fixtures of the relay's tests: a fake notifier on Redis, a gateway in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from gateway_harness import LoopbackServer, RunningGateway, StartGateway, stop_all
from realtime_harness import FakeNotifier
from redis.asyncio import Redis

from wishlist_shared.testing.stack import Namespace


@pytest.fixture
async def notifier(redis: Redis, namespace: Namespace) -> AsyncIterator[tuple[FakeNotifier, str]]:
    fake = FakeNotifier(redis, namespace.redis_prefix)
    server = LoopbackServer(fake)
    url = await server.start()
    try:
        yield fake, url
    finally:
        if fake.hold is not None:
            fake.hold.set()
        await stop_all([server])


@pytest.fixture
def fake_notifier(notifier: tuple[FakeNotifier, str]) -> FakeNotifier:
    return notifier[0]


@pytest.fixture
async def relay(start_gateway: StartGateway, notifier: tuple[FakeNotifier, str]) -> RunningGateway:
    """A gateway whose notifier is the fake one."""
    return await start_gateway(notifier_url=notifier[1])
