"""The real auth service behind the real gateway, both as processes on loopback ports."""

from __future__ import annotations

import uuid

import httpx
import pytest

from wishlist_shared.testing.stack import Stack

pytestmark = pytest.mark.system


async def test_register_login_and_me_through_the_gateway(stack: Stack) -> None:
    await stack.start("auth")
    await stack.start("gateway")
    email = f"gw-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"

    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": "Gina"},
        )
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        anonymous = await client.get("/api/v1/auth/me")
        ready = await client.get("/readyz")
        logout = await client.post(
            "/api/v1/auth/logout",
            json={"refresh_token": tokens["refresh_token"]},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        after_logout = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )

    assert me.status_code == 200, me.text
    assert me.json()["id"] == registered.json()["id"]
    assert me.json()["email"] == email
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 200, ready.text
    # Auth writes the session into the revocation list; the gateway reads it.
    assert logout.status_code == 204, logout.text
    assert after_logout.status_code == 401
