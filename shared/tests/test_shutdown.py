"""The drain between SIGTERM and uvicorn's shutdown: readiness off, connections closed."""

from __future__ import annotations

import signal
from types import FrameType

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from wishlist_shared.shutdown import Drain, DrainMiddleware
from wishlist_shared.testing.eventually import eventually


def app(drain: Drain) -> DrainMiddleware:
    async def ok(_: object) -> PlainTextResponse:
        return PlainTextResponse("ok", headers={"connection": "keep-alive"})

    routes = [Route("/things", ok), Route("/readyz", ok)]
    return DrainMiddleware(Starlette(routes=routes), drain)


async def test_sigterm_drains_for_a_while_then_hands_the_signal_to_the_server() -> None:
    received: list[int] = []

    def server_handler(signum: int, _: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGTERM, server_handler)
    drain = Drain(0.5)
    transport = httpx.ASGITransport(app=app(drain))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            with drain.on_sigterm():
                before = await client.get("/things")
                assert before.headers["connection"] == "keep-alive"
                assert (await client.get("/readyz")).status_code == 200

                signal.raise_signal(signal.SIGTERM)
                await eventually(lambda: drain.draining)
                during = await client.get("/things")
                assert (during.status_code, during.headers["connection"]) == (200, "close")
                assert (await client.get("/readyz")).status_code == 503
                # The server hears of SIGTERM only once the drain is over.
                assert received == []
                await eventually(lambda: received == [signal.SIGTERM], timeout=5)
            # Put back as it was once the app stops.
            assert signal.getsignal(signal.SIGTERM) is server_handler
    finally:
        signal.signal(signal.SIGTERM, previous)


async def test_a_second_sigterm_or_no_drain_hands_the_signal_on_at_once() -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _: received.append(signum))
    try:
        drain = Drain(60)
        with drain.on_sigterm():
            signal.raise_signal(signal.SIGTERM)
            await eventually(lambda: drain.draining)
            signal.raise_signal(signal.SIGTERM)
            await eventually(lambda: received == [signal.SIGTERM], timeout=5)
        with Drain(0).on_sigterm():
            signal.raise_signal(signal.SIGTERM)
            await eventually(lambda: received == [signal.SIGTERM] * 2, timeout=5)
    finally:
        signal.signal(signal.SIGTERM, previous)
