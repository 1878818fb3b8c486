"""Sockets that close during their replay leave the gateway's connections to the notifier whole.

What the fault suite met after restarting the gateway: many sockets
reconnected at once with ``after=``, their replays queued for the notifier's
pooled connections, and sockets closed meanwhile, cancelling their replays.
A replay cancelled just after the pool gave it a new connection kept that
connection's slot for good (encode/httpcore#1093), until every request to
the notifier was a ``PoolTimeout``. That exact moment cannot be aimed at from
outside the gateway (``tests/api/test_uncancelled.py`` aims at it); what is
checked here is what rules it out: a replay whose socket closed is not
cancelled but left to finish, and its connection goes back to the pool.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from gateway_harness import LoopbackServer, SigningKey, StartGateway, stop_all
from realtime_harness import FakeNotifier, ids_received, open_socket, subscribers
from redis.asyncio import Redis
from starlette.types import Receive, Scope, Send

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Namespace

POOL = 2
SOCKETS = 12


class CountingConnections:
    """The fake notifier, noting the gateway's connection (its port) of each request."""

    def __init__(self, notifier: FakeNotifier) -> None:
        self.notifier = notifier
        self.ports: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.ports.add(scope["client"][1])
        await self.notifier(scope, receive, send)


@pytest.fixture
async def counted(
    redis: Redis, namespace: Namespace
) -> AsyncIterator[tuple[FakeNotifier, CountingConnections, str]]:
    fake = FakeNotifier(redis, namespace.redis_prefix)
    counting = CountingConnections(fake)
    server = LoopbackServer(counting)
    url = await server.start()
    try:
        yield fake, counting, url
    finally:
        if fake.hold is not None:
            fake.hold.set()
        await stop_all([server])


async def test_replays_of_sockets_closed_at_once_finish_and_give_their_connections_back(
    start_gateway: StartGateway,
    counted: tuple[FakeNotifier, CountingConnections, str],
    signing_key: SigningKey,
    redis: Redis,
    namespace: Namespace,
) -> None:
    fake, connections, notifier_url = counted
    # Idle connections kept for the whole test: a new one means one was closed.
    gateway = await start_gateway(
        notifier_url=notifier_url,
        upstream_max_connections=POOL,
        upstream_pool_timeout=1.0,
        upstream_keepalive_expiry=60.0,
    )
    users = [str(uuid.uuid4()) for _ in range(SOCKETS + 1)]
    seen = {user: await fake.notify(user, publish=False) for user in users}
    missed = {user: await fake.notify(user, publish=False) for user in users}
    fake.hold = asyncio.Event()

    sockets = [
        await open_socket(gateway.url, signing_key.token(sub=user), after=seen[user]["id"])
        for user in users[:SOCKETS]
    ]
    # Both connections are taken by replays the notifier holds; the others queue.
    await eventually(lambda: len(fake.replays) == POOL, message="the pool taken by replays")
    await asyncio.gather(*(ws.close() for ws in sockets))

    async def all_gone() -> bool:
        channels = [f"{namespace.redis_prefix}notifications:{u}" for u in users[:SOCKETS]]
        return all([await subscribers(redis, channel) == 0 for channel in channels])

    # Gone from the hub: each socket's replay has been given up by then.
    await eventually(all_gone, message="the sockets closed at the gateway")
    fake.hold.set()

    last = users[SOCKETS]
    async with open_socket(gateway.url, signing_key.token(sub=last), after=seen[last]["id"]) as ws:
        assert await ids_received(ws, 1) == [missed[last]["id"]]
    # The held replays were answered, read and their connections reused;
    # cancelled, each would have closed its connection for a new one.
    assert len(connections.ports) == POOL, connections.ports
