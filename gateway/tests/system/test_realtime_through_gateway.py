"""The real auth behind the real gateway: logging out ends that session's sockets."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from realtime_harness import close_code, open_socket

from gateway.realtime.hub import UNAUTHORIZED
from wishlist_shared.testing.stack import Stack

pytestmark = pytest.mark.system


async def test_logout_closes_the_sessions_socket_with_4401_within_a_second(stack: Stack) -> None:
    await stack.start("auth")
    await stack.start("gateway")
    email = f"ws-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"

    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": "Wes"},
        )
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        ticket = await client.post("/api/v1/realtime/ticket", headers=auth)
        assert ticket.status_code == 200, ticket.text

        async with open_socket(stack.url("gateway"), ticket=ticket.json()["ticket"]) as ws:
            logout = await client.post(
                "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=auth
            )
            assert logout.status_code == 204, logout.text
            logged_out = time.monotonic()
            code = await close_code(ws)
            closed_after = time.monotonic() - logged_out

    assert code == UNAUTHORIZED
    assert closed_after < 1.0
