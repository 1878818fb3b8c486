"""Load shedding: past its bound of requests in flight, a process answers 503 at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from wishlist_shared.service import create_service_app
from wishlist_shared.settings import ServiceSettings

LIMIT = 2


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


class _Slow:
    """A route that holds each request until released, and says how many it holds."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.held = 0
        self.arrived = asyncio.Condition()

    async def wait_for(self, count: int) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: self.held >= count), 5)


def _app(slow: _Slow, limit: int = LIMIT, service: str = "shed-test") -> FastAPI:
    app = create_service_app(
        service=service,
        settings=ServiceSettings(max_requests_in_flight=limit),
        lifespan=_lifespan,
        readiness={},
    )

    @app.get("/api/v1/slow")
    async def slow_route() -> dict[str, str]:
        async with slow.arrived:
            slow.held += 1
            slow.arrived.notify_all()
        await slow.release.wait()
        return {"status": "done"}

    @app.get("/api/v1/fast")
    async def fast_route() -> dict[str, str]:
        return {"status": "done"}

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _shed(service: str) -> float:
    return REGISTRY.get_sample_value("http_requests_shed_total", {"service": service}) or 0.0


async def test_past_the_limit_a_request_is_refused_at_once_and_those_in_flight_complete() -> None:
    slow = _Slow()
    async with _client(_app(slow)) as client:
        in_flight = [asyncio.create_task(client.get("/api/v1/slow")) for _ in range(LIMIT)]
        await slow.wait_for(LIMIT)

        refused = await asyncio.wait_for(
            client.get("/api/v1/fast", headers={"X-Request-ID": "shed-1"}), 5
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["x-request-id"] == "shed-1"
        problem = refused.json()
        assert problem["type"] == "/problems/overloaded"
        assert problem["status"] == 503
        assert problem["title"]
        assert problem["detail"]

        slow.release.set()
        assert [r.status_code for r in await asyncio.gather(*in_flight)] == [200] * LIMIT
        # Room again once they are done.
        assert (await client.get("/api/v1/fast")).status_code == 200


async def test_health_readiness_and_metrics_are_never_refused() -> None:
    slow = _Slow()
    async with _client(_app(slow, service="shed-health-test")) as client:
        in_flight = [asyncio.create_task(client.get("/api/v1/slow")) for _ in range(LIMIT)]
        await slow.wait_for(LIMIT)
        assert (await client.get("/api/v1/fast")).status_code == 503
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(path)).status_code == 200, path
        assert _shed("shed-health-test") == 1
        slow.release.set()
        await asyncio.gather(*in_flight)


async def test_a_limit_of_zero_sheds_nothing() -> None:
    slow = _Slow()
    async with _client(_app(slow, limit=0)) as client:
        in_flight = [asyncio.create_task(client.get("/api/v1/slow")) for _ in range(20)]
        await slow.wait_for(20)
        assert (await client.get("/api/v1/fast")).status_code == 200
        slow.release.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*in_flight))


async def test_a_refused_request_does_not_take_a_place() -> None:
    slow = _Slow()
    async with _client(_app(slow, limit=1, service="shed-place-test")) as client:
        held = asyncio.create_task(client.get("/api/v1/slow"))
        await slow.wait_for(1)
        for _ in range(3):
            assert (await client.get("/api/v1/fast")).status_code == 503
        slow.release.set()
        assert (await held).status_code == 200
        assert (await client.get("/api/v1/fast")).status_code == 200
        assert _shed("shed-place-test") == 3
