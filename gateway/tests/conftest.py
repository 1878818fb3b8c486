"""Fixtures of the gateway's tests: fake services, a signing key, gateways to start."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# importlib mode puts no test directory on sys.path; the harness is shared by
# the test modules of every sub-directory.
sys.path.insert(0, str(Path(__file__).parent))

from gateway_harness import (
    FakeService,
    LoopbackServer,
    RunningGateway,
    Services,
    SigningKey,
    StartGateway,
    gateway_settings,
    stop_all,
)

from gateway.main import create_app
from gateway.realtime.protocol import GatewaySockets
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
async def services(signing_key: SigningKey) -> AsyncIterator[Services]:
    auth = FakeService("auth", jwks={"keys": [signing_key.jwk()]})
    wishlists = FakeService("wishlists")
    notifier = FakeService("notifier")
    fakes = (auth, wishlists, notifier)
    loopbacks = [LoopbackServer(fake) for fake in fakes]
    try:
        urls = {fake.name: await lb.start() for fake, lb in zip(fakes, loopbacks, strict=True)}
        yield Services(auth, wishlists, notifier, urls)
    finally:
        # Requests still parked in a fake service must end for it to stop.
        for fake in fakes:
            fake.unblock()
        await stop_all(loopbacks)


@pytest.fixture
async def start_gateway(
    services: Services, servers: Servers, namespace: Namespace
) -> AsyncIterator[StartGateway]:
    """``await start_gateway(**settings)``: a gateway in front of the fake services."""
    started: list[tuple[LoopbackServer, httpx.AsyncClient]] = []

    async def start(**overrides: Any) -> RunningGateway:
        settings = gateway_settings(services, servers, namespace, **overrides)
        # The sockets' protocol as deployed (see gateway.realtime.protocol).
        server = LoopbackServer(create_app(settings), lifespan=True, ws=GatewaySockets)
        url = await server.start()
        client = httpx.AsyncClient(base_url=url, timeout=10)
        started.append((server, client))
        return RunningGateway(url, client, settings)

    try:
        yield start
    finally:
        for _, client in started:
            await client.aclose()
        await stop_all([server for server, _ in started])


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port where connections are refused, for as long as the test runs.

    Bound but never listening: no other process can take it meanwhile, which
    a port that was merely free a moment ago would not promise.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> RunningGateway:
    return await start_gateway()
