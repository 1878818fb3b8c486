"""The whole platform as a browser meets it: people, HTTP through the gateway, sockets.

Auth, wishlists, notifier and the gateway run as real processes on the real
servers (``conftest.platform`` starts them); a :class:`Person` registers and
logs in through the gateway, calls the API with their bearer token and opens
the WebSocket at ``/ws``. Shared by the system tests that drive the platform
as users do.

Not named ``platform``: this folder is on ``sys.path`` (see ``conftest``), and
the module would hide the standard library's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Stack

API = "/api/v1"
PASSWORD = "correct horse battery"
RECEIVE_TIMEOUT = 15.0
GATEWAY_LIMITS: dict[str, dict[str, str]] = {
    # Many requests from 127.0.0.1 within a minute are the test, not an abuser.
    "gateway": {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"}
}


@dataclass
class Person:
    id: str
    email: str
    name: str
    headers: dict[str, str]


def fresh_email(name: str) -> str:
    return f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"


@dataclass
class Platform:
    stack: Stack
    http: httpx.AsyncClient

    async def person(self, name: str, email: str | None = None) -> Person:
        """Registers ``name`` (with ``email``, or an address of their own) and logs in."""
        email = email or fresh_email(name)
        body = {"email": email, "password": PASSWORD, "display_name": name}
        registered = await self.http.post(f"{API}/auth/register", json=body)
        assert registered.status_code == 201, registered.text
        login = await self.http.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        return Person(registered.json()["id"], email, name, {"Authorization": f"Bearer {token}"})

    async def call(self, who: Person, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, f"{API}{path}", json=body, headers=who.headers)

    async def ok(self, who: Person, method: str, path: str, body: Any = None) -> Any:
        """The answer's JSON (None when empty); any status but 200, 201 or 204 fails."""
        response = await self.call(who, method, path, body)
        assert response.status_code in (200, 201, 204), (method, path, response.text)
        return response.json() if response.content else None

    async def post(self, who: Person, path: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(who, "POST", path, body)
        return result

    async def sees(self, who: Person, wishlist_id: str) -> bool:
        return (await self.call(who, "GET", f"/wishlists/{wishlist_id}")).status_code == 200

    async def share(self, owner: Person, wishlist_id: str, viewer: Person) -> None:
        """Shares the list with ``viewer`` directly and waits until they see it."""
        await self.ok(owner, "POST", f"/wishlists/{wishlist_id}/shares", {"email": viewer.email})
        await eventually(lambda: self.sees(viewer, wishlist_id), message="the share never worked")

    def socket(self, who: Person, **params: str) -> connect:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = self.stack.url("gateway").replace("http://", "ws://") + "/ws?" + query
        return connect(url, additional_headers=who.headers, open_timeout=10)

    async def notifications(self, who: Person) -> list[dict[str, Any]]:
        """The person's notifications, newest first."""
        response = await self.call(who, "GET", "/notifications?limit=200")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next notification pushed to the socket; fails after ``RECEIVE_TIMEOUT``."""
    message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    assert message["type"] == "notification", message
    notification: dict[str, Any] = message["notification"]
    return notification
