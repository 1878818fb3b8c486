"""The whole platform, running, for the OWASP API Security Top 10 (2023) tests.

One platform serves every module of this folder that can share it
(``platform``); a module that needs other settings (tight limits) starts its
own with ``launch_platform``. Tests make their own users, so they do not
depend on each other. Each person registers from an address of their own
(``X-Forwarded-For`` from loopback is believed, as from nginx), so the
per-address budgets of one test never spend another's.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect

from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Stack

API = "/api/v1"
PASSWORD = "correct horse battery"
ALLOWED_ORIGIN = "https://app.example.test"
# Many requests from one test machine within a minute are the tests, not an abuser.
DEFAULTS: dict[str, dict[str, str]] = {
    "gateway": {
        "GATEWAY_RATE_LIMIT_REQUESTS": "100000",
        "GATEWAY_CORS_ORIGINS": ALLOWED_ORIGIN,
    }
}


def fresh_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@dataclass
class Person:
    id: str
    email: str
    address: str
    access_token: str
    refresh_token: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Platform:
    stack: Stack
    http: httpx.AsyncClient

    async def person(self, name: str = "Pat") -> Person:
        address = fresh_address()
        email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        via = {"X-Forwarded-For": address}
        body = {"email": email, "password": PASSWORD, "display_name": name}
        registered = await self.http.post(f"{API}/auth/register", json=body, headers=via)
        assert registered.status_code == 201, registered.text
        login = await self.http.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}, headers=via
        )
        assert login.status_code == 200, login.text
        tokens = login.json()
        return Person(
            id=registered.json()["id"],
            email=email,
            address=address,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            headers={"Authorization": f"Bearer {tokens['access_token']}", **via},
        )

    async def call(
        self, who: Person | None, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(who.headers) if who else {}
        headers.update(kwargs.pop("headers", {}))
        kwargs = {"json": body, **kwargs} if body is not None else kwargs
        return await self.http.request(method, f"{API}{path}", headers=headers, **kwargs)

    async def ok(self, who: Person, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(who, method, path, body)
        assert response.status_code in (200, 201, 204), (method, path, response.text)
        return response.json() if response.content else None

    async def shared_list(self, owner: Person, *viewers: Person) -> tuple[str, str]:
        """A list with one item, shared with ``viewers`` (active once this returns)."""
        wishlist = await self.ok(owner, "POST", "/wishlists", {"title": "Birthday"})
        item = await self.ok(
            owner, "POST", f"/wishlists/{wishlist['id']}/items", {"title": "Kite", "quantity": 3}
        )
        for viewer in viewers:
            await self.ok(
                owner, "POST", f"/wishlists/{wishlist['id']}/shares", {"email": viewer.email}
            )
        for viewer in viewers:
            await eventually(
                lambda v=viewer: self.sees(v, wishlist["id"]), timeout=45, message="no access"
            )
        return str(wishlist["id"]), str(item["id"])

    async def sees(self, who: Person, wishlist_id: str) -> bool:
        return (await self.call(who, "GET", f"/wishlists/{wishlist_id}")).status_code == 200

    async def notifications(self, who: Person) -> list[dict[str, Any]]:
        page = await self.ok(who, "GET", "/notifications?limit=200")
        items: list[dict[str, Any]] = page["items"]
        return items

    def socket(self, headers: Mapping[str, str] | None = None, **params: str) -> connect:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = self.stack.url("gateway").replace("http://", "ws://") + "/ws?" + query
        return connect(url, additional_headers=dict(headers or {}), open_timeout=10)

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Runs ``query`` as the database superuser (seeding, and looking behind the API)."""
        connection = await asyncpg.connect(self.stack.database.admin_url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()


LaunchPlatform = Callable[
    [Mapping[str, Mapping[str, str]]], contextlib.AbstractAsyncContextManager[Platform]
]


@pytest.fixture(scope="session")
def launch_platform(servers: Servers, database_factory: DatabaseFactory) -> LaunchPlatform:
    """``async with launch_platform(overrides) as platform``: a platform of its own."""

    @contextlib.asynccontextmanager
    async def launch(overrides: Mapping[str, Mapping[str, str]]) -> AsyncIterator[Platform]:
        async with fresh_namespace(servers) as namespace:
            database = await database_factory.create(["auth", "wishlists", "notifier"])
            stack = Stack(servers, database, namespace)
            try:
                await stack.start_platform(overrides)
                async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=20) as http:
                    yield Platform(stack, http)
            finally:
                await stack.stop()
                await database_factory.drop(database.name)

    return launch


@pytest.fixture(scope="package")
async def platform(launch_platform: LaunchPlatform) -> AsyncIterator[Platform]:
    """The platform most of this folder shares, with the default limits; stopped after it."""
    async with launch_platform(DEFAULTS) as running:
        yield running
