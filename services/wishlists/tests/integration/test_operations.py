"""The service as a process: readiness, and its own check of access tokens behind the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, Platform

pytestmark = pytest.mark.system

PASSWORD = "correct horse battery"


async def test_ready_once_database_redis_and_rabbitmq_answer(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.stack.url("wishlists")) as direct:

        async def ready() -> bool:
            response = await direct.get("/readyz")
            return response.status_code == 200

        await eventually(ready)
        body = (await direct.get("/readyz")).json()
        assert body["checks"] == {
            "database": "ok",
            "redis": "ok",
            "rabbitmq": "ok",
            "consumers": "ok",
        }
        assert (await direct.get("/metrics")).status_code == 200


async def test_the_service_checks_tokens_itself_when_reached_without_the_gateway(
    api: Api, platform: Platform
) -> None:
    user = await api.register("Tess")
    login = await api.auth.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    tokens = login.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with httpx.AsyncClient(base_url=platform.stack.url("wishlists")) as direct:
        assert (await direct.get("/api/v1/wishlists")).status_code == 401
        forged = {"Authorization": "Bearer " + tokens["access_token"][:-4] + "AAAA"}
        assert (await direct.get("/api/v1/wishlists", headers=forged)).status_code == 401
        assert (await direct.get("/api/v1/wishlists", headers=bearer)).status_code == 200
        logout = await api.auth.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer
        )
        assert logout.status_code == 204
        revoked = await direct.get("/api/v1/wishlists", headers=bearer)
        assert revoked.status_code == 401
        assert revoked.headers["content-type"] == "application/problem+json"
