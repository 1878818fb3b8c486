"""Health, readiness and metrics routes, the same on every process."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from wishlist_shared import health


def _app(ready: bool) -> FastAPI:
    async def check() -> None:
        if not ready:
            raise ConnectionError("database down")

    app = FastAPI()
    items = APIRouter()

    @items.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    app.include_router(items, prefix="/api/v1/things")
    health.install(app, "things", {"database": check})
    return app


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_readiness_fails_with_the_name_of_what_is_down() -> None:
    response = await _get(_app(ready=False), "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable"}
    assert (await _get(_app(ready=True), "/readyz")).status_code == 200


async def test_metrics_label_requests_by_full_route_template_not_raw_path() -> None:
    app = _app(ready=True)
    assert (await _get(app, "/api/v1/things/items/abc-123")).status_code == 200
    metrics = (await _get(app, "/metrics")).text
    assert 'route="/api/v1/things/items/{item_id}"' in metrics
    assert "abc-123" not in metrics
