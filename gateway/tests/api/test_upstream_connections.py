"""The gateway's connections to a service (gateway.api.http1), against raw loopback servers."""

from __future__ import annotations

import asyncio
import contextlib

from gateway_harness import SigningKey, StartGateway, bearer, raw_server

from gateway.api import http1
from wishlist_shared.testing.eventually import eventually


async def test_a_small_answer_that_breaks_off_is_a_503_to_retry_not_a_short_body(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    async def short_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.close()

    async with raw_server(short_body) as url:
        gateway = await start_gateway(notifier_url=url)

        response = await gateway.client.get(
            "/api/v1/notifications", headers=bearer(signing_key.token())
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["type"] == "/problems/upstream-interrupted"


async def test_requests_one_after_another_share_one_kept_alive_connection(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    connections = 0
    answered = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, answered
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                answered += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async with raw_server(keep_alive) as url:
        gateway = await start_gateway(notifier_url=url)
        headers = bearer(signing_key.token())

        bodies = [
            (await gateway.client.get("/api/v1/notifications", headers=headers)).content
            for _ in range(5)
        ]

    assert bodies == [b"ok"] * 5
    assert (answered, connections) == (5, 1)


async def test_a_chunked_answer_comes_back_whole(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Thing: 1\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async with raw_server(chunked) as url:
        gateway = await start_gateway(notifier_url=url)

        response = await gateway.client.get(
            "/api/v1/notifications", headers=bearer(signing_key.token())
        )

    assert response.status_code == 201
    assert response.headers["x-thing"] == "1"
    assert response.content == b"hello world"


def _limits(connections: int) -> http1.Limits:
    return http1.Limits(
        connect=2,
        read=5,
        write=5,
        pool=1,
        max_connections=connections,
        max_keepalive=connections,
        keepalive_expiry=4,
    )


async def test_requests_cancelled_at_any_point_leave_the_pool_its_connections() -> None:
    release = asyncio.Event()
    received = 0

    async def held(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                received += 1
                await release.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async with raw_server(held) as url:
        port = int(url.rsplit(":", 1)[1])
        pool = http1.Pool("127.0.0.1", port, _limits(2))
        # Two waiting for their answers (holding both connections), four for a connection.
        sending = [asyncio.create_task(pool.request("GET", b"/", [], None)) for _ in range(6)]
        await eventually(lambda: received == 2)
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)
        release.set()

        answers = await asyncio.gather(*(pool.request("GET", b"/", [], None) for _ in range(4)))
        await pool.aclose()

    assert [(a.status, a.body) for a in answers] == [(200, b"ok")] * 4
