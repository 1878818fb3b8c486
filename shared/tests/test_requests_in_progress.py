"""``http_requests_in_progress``: what a crash right now would cut off."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from wishlist_shared.health import MetricsMiddleware
from wishlist_shared.health import router as health_router

SERVICE = "inprogress-test"


def in_progress() -> float:
    return REGISTRY.get_sample_value("http_requests_in_progress", {"service": SERVICE}) or 0.0


async def test_a_request_counts_while_it_is_handled_and_metrics_does_not_count_itself() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()
    app = FastAPI()
    app.include_router(health_router({}))

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {"status": "done"}

    app.add_middleware(MetricsMiddleware, service=SERVICE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        held = asyncio.create_task(client.get("/slow"))
        await asyncio.wait_for(entered.wait(), 5)
        assert in_progress() == 1
        scraped = (await client.get("/metrics")).text
        assert f'http_requests_in_progress{{service="{SERVICE}"}} 1.0' in scraped
        release.set()
        assert (await held).status_code == 200
    assert in_progress() == 0
