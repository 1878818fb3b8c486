"""Requests whose callers are cancelled under pool contention leave the pool usable.

The leak (encode/httpcore#1093) needs a request cancelled after the pool has
assigned it a new connection and before it runs again. Here that moment is
made exact, not hoped for: the service answers each request with
``Connection: close``, so a finished request frees its slot by closing its
connection, and the pool at once gives the waiting requests new ones; the
task whose request just finished cancels the waiting ones before yielding,
so they are cancelled exactly in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.api import uncancelled
from wishlist_shared.testing.eventually import eventually

POOL = 2
WAITING = 4


@dataclass
class HeldService:
    """Answers every request ``Connection: close``, once :attr:`release` is set."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: int = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.received += 1
            await self.release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def held() -> AsyncIterator[tuple[HeldService, str]]:
    service = HeldService()
    server = await asyncio.start_server(service, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield service, f"http://127.0.0.1:{port}/"
    finally:
        service.release.set()
        server.close()
        await server.wait_closed()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=POOL),
        timeout=httpx.Timeout(5.0, pool=1.0),
        trust_env=False,
    ) as client:
        yield client


@pytest.mark.parametrize("stream", [False, True], ids=["read", "streamed"])
async def test_requests_cancelled_while_waiting_for_a_connection_leave_their_slots(
    held: tuple[HeldService, str], client: httpx.AsyncClient, stream: bool
) -> None:
    service, url = held
    waiting: list[asyncio.Task[httpx.Response]] = []

    async def first_then_cancel_the_waiting() -> None:
        response = await uncancelled.send(client, client.build_request("GET", url))
        assert response.status_code == 200
        # No await in between: the waiting requests were just given new
        # connections and have not run since.
        for task in waiting:
            task.cancel()

    first = [asyncio.create_task(first_then_cancel_the_waiting()) for _ in range(POOL)]
    await eventually(lambda: service.received == POOL, message="the pool's slots taken")
    waiting += [
        asyncio.create_task(
            uncancelled.send(client, client.build_request("GET", url), stream=stream)
        )
        for _ in range(WAITING)
    ]
    # Every one queued behind the first (the pool's repr is how httpcore shows its queue).
    pool = client._transport._pool  # type: ignore[attr-defined]
    await eventually(lambda: f"{WAITING} queued" in repr(pool), message=f"{WAITING} queued")
    assert service.received == POOL
    service.release.set()
    await asyncio.gather(*first)
    for task in waiting:
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()

    # Before the fix, each slot held a connection that never opened: PoolTimeout.
    for _ in range(POOL + 1):
        response = await uncancelled.send(client, client.build_request("GET", url))
        assert response.status_code == 200
