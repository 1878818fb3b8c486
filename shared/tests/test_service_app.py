"""What every app built by create_service_app has in common."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from wishlist_shared.service import create_service_app
from wishlist_shared.settings import ServiceSettings


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def _app() -> FastAPI:
    app = create_service_app(
        service="things", settings=ServiceSettings(), lifespan=_lifespan, readiness={}
    )

    @app.get("/api/v1/things")
    async def things() -> list[str]:
        return []

    return app


async def _get(path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://internal:8002") as c:
        return await c.get(path, headers=headers)


async def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_internal_address() -> None:
    response = await _get("/api/v1/things/")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "location" not in response.headers


async def test_every_answer_carries_the_request_id_it_was_given() -> None:
    response = await _get("/api/v1/things", **{"X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc-123"
    assert (await _get("/nope")).headers["x-request-id"]
