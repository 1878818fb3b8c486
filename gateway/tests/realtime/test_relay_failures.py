"""The relay across processes and through a Redis outage."""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from collections.abc import AsyncIterator

import pytest
from gateway_harness import Services, SigningKey, StartGateway
from realtime_harness import FakeNotifier, close_code, ids_received, next_notification, open_socket
from websockets.exceptions import ConnectionClosed

from gateway.realtime.hub import RESUME
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.processes import ServiceProcess
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace


@pytest.fixture
async def redis_proxy(servers: Servers) -> AsyncIterator[TcpProxy]:
    url = urllib.parse.urlsplit(servers.redis_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_two_gateway_processes_give_each_socket_each_notification_once(
    services: Services,
    notifier: tuple[FakeNotifier, str],
    signing_key: SigningKey,
    servers: Servers,
    namespace: Namespace,
) -> None:
    fake, notifier_url = notifier
    env = {
        "GATEWAY_AUTH_URL": services.urls["auth"],
        "GATEWAY_NOTIFIER_URL": notifier_url,
        "GATEWAY_REDIS_URL": servers.redis_url,
        "GATEWAY_REDIS_PREFIX": namespace.redis_prefix,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    gateways = [ServiceProcess(f"gateway-{i}", "gateway.main:create_app", env) for i in (1, 2)]
    user = str(uuid.uuid4())
    token = signing_key.token(sub=user)
    try:
        await asyncio.gather(*(g.start() for g in gateways))
        one, two = gateways
        async with (
            open_socket(one.url, token) as first,
            open_socket(one.url, token) as second,
            open_socket(two.url, token) as third,
        ):
            sent = [(await fake.notify(user))["id"] for _ in range(3)]
            for ws in (first, second, third):
                assert await ids_received(ws, 3) == sent
            # Any repeat would come before this one, on the same channel.
            marker = await fake.notify(user)
            for ws in (first, second, third):
                assert await next_notification(ws) == marker
    finally:
        await asyncio.gather(*(g.stop() for g in gateways))


async def test_losing_redis_closes_sockets_with_resume_and_resuming_misses_nothing(
    start_gateway: StartGateway,
    notifier: tuple[FakeNotifier, str],
    signing_key: SigningKey,
    redis_proxy: TcpProxy,
) -> None:
    fake, notifier_url = notifier
    gateway = await start_gateway(
        notifier_url=notifier_url, redis_url=f"redis://127.0.0.1:{redis_proxy.port}/0"
    )
    user = str(uuid.uuid4())
    token = signing_key.token(sub=user)

    async with open_socket(gateway.url, token) as ws:
        before = await fake.notify(user)
        assert await next_notification(ws) == before
        redis_proxy.cut()
        assert await close_code(ws) == RESUME
    # Pushed while the gateway was cut off: pub/sub drops it, the replay must not.
    during = await fake.notify(user)
    redis_proxy.restore()

    async def resume() -> list[str]:
        try:
            async with open_socket(gateway.url, token, after=before["id"]) as resumed:
                replayed = await ids_received(resumed, 1)
                after = await fake.notify(user)
                return [*replayed, *await ids_received(resumed, 1), after["id"]]
        except ConnectionClosed as exc:
            # 1013 while the relay reconnects to Redis: try again.
            raise AssertionError(f"not yet: {exc}") from exc

    replayed, live, expected_live = await eventually(resume, timeout=15)
    assert replayed == during["id"]
    assert live == expected_live


async def test_a_redis_that_stops_answering_closes_sockets_with_resume(
    start_gateway: StartGateway,
    notifier: tuple[FakeNotifier, str],
    signing_key: SigningKey,
    redis_proxy: TcpProxy,
) -> None:
    fake, notifier_url = notifier
    gateway = await start_gateway(
        notifier_url=notifier_url,
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/0",
        ws_redis_heartbeat_seconds=0.5,
    )
    user = str(uuid.uuid4())

    async with open_socket(gateway.url, signing_key.token(sub=user)) as ws:
        sent = await fake.notify(user)
        assert await next_notification(ws) == sent
        # Connected but silent: only the relay's PING can tell.
        redis_proxy.stall()
        assert await close_code(ws) == RESUME
