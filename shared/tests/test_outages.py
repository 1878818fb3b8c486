"""A server the request needs being down is a 503 to retry, not a 500 to report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wishlist_shared import problems
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.servers import Servers

PROBLEM = "application/problem+json"


@pytest.fixture
async def postgres_proxy(servers: Servers) -> AsyncIterator[tuple[TcpProxy, AsyncEngine]]:
    url = urlsplit(servers.postgres_admin_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    await proxy.start()
    auth = f"{url.username}:{url.password}@" if url.password else f"{url.username}@"
    engine = create_async_engine(
        f"postgresql+asyncpg://{auth}127.0.0.1:{proxy.port}{url.path}", pool_pre_ping=True
    )
    yield proxy, engine
    await engine.dispose()
    await proxy.stop()


@pytest.fixture
async def redis_proxy(servers: Servers) -> AsyncIterator[tuple[TcpProxy, Redis]]:
    url = urlsplit(servers.redis_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379)
    await proxy.start()
    client = Redis(host="127.0.0.1", port=proxy.port, socket_connect_timeout=1)
    yield proxy, client
    await client.aclose()
    await proxy.stop()


def _app(engine: AsyncEngine, redis: Redis) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/database")
    async def database() -> int:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT 1"))).scalar_one())

    @app.get("/cache")
    async def cache() -> bool:
        return bool(await redis.ping())

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("a bug, not an outage")

    return app


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


def _assert_retry_later(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "/problems/dependency-unavailable"


async def test_postgresql_going_away_under_pooled_connections_is_a_503_then_recovers(
    postgres_proxy: tuple[TcpProxy, AsyncEngine], redis_proxy: tuple[TcpProxy, Redis]
) -> None:
    proxy, engine = postgres_proxy
    app = _app(engine, redis_proxy[1])
    assert (await _get(app, "/database")).json() == 1

    # As a restart does: open connections drop, new ones are refused.
    proxy.cut()
    _assert_retry_later(await _get(app, "/database"))

    proxy.restore()
    assert (await _get(app, "/database")).json() == 1


async def test_redis_unreachable_is_a_503(
    postgres_proxy: tuple[TcpProxy, AsyncEngine], redis_proxy: tuple[TcpProxy, Redis]
) -> None:
    proxy, client = redis_proxy
    app = _app(postgres_proxy[1], client)
    assert (await _get(app, "/cache")).json() is True

    proxy.cut()
    _assert_retry_later(await _get(app, "/cache"))

    proxy.restore()
    assert (await _get(app, "/cache")).json() is True


async def test_a_bug_is_still_a_500_without_retry_after(
    postgres_proxy: tuple[TcpProxy, AsyncEngine], redis_proxy: tuple[TcpProxy, Redis]
) -> None:
    response = await _get(_app(postgres_proxy[1], redis_proxy[1]), "/bug")
    assert response.status_code == 500
    assert "retry-after" not in response.headers
