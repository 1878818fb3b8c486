"""Pasting a product link fills the item in: ``POST /api/v1/link-preview`` on the whole platform.

The shop is a page server on 127.0.0.1; wishlists may fetch it only because
the platform runs with that exact ``ip:port`` in its test-only allowlist
(``WISHLISTS_LINK_PREVIEW_TEST_ALLOWED_ADDRESSES``). A trap on another port of
127.0.0.1 is not in it: the guard must keep every request away from it, also
when the shop redirects there. The same refusals with an empty allowlist are
in ``tests/security/test_api7_ssrf.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.pages import PageServer, page_server, redirect, response
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
PASSWORD = "correct horse battery"
RATE_LIMIT = 12

OPEN_GRAPH = """<!doctype html><html><head><title>Shop: kites</title>
<meta property="og:title" content="Delta kite, red">
<meta property="og:image" content="/img/delta.jpg">
<meta property="product:price:amount" content="49.90">
<meta property="product:price:currency" content="EUR">
</head><body></body></html>"""

JSON_LD = """<!doctype html><html><head><title>Shop: kites</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Shop"},
 {"@type": "Product", "name": "Stunt kite", "image": "https://cdn.shop.example/stunt.png",
  "offers": {"@type": "Offer", "price": "1,299.00", "priceCurrency": "USD"}}]}
</script></head><body></body></html>"""

MICRODATA = """<!doctype html><html><head><meta charset="iso-8859-1">
<title>Shop: kites</title></head><body>
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Box kite \xe9t\xe9</h1>
  <img itemprop="image" src="box.jpg">
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <meta itemprop="price" content="24.50"><meta itemprop="priceCurrency" content="CHF">
  </div>
</div></body></html>"""


@dataclass
class Shop:
    http: httpx.AsyncClient
    site: PageServer
    trap: PageServer

    async def user(self) -> dict[str, str]:
        email = f"p-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": PASSWORD, "display_name": "Pat"}
        registered = await self.http.post(f"{API}/auth/register", json=body)
        assert registered.status_code == 201, registered.text
        login = await self.http.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def preview(self, who: dict[str, str], url: str) -> httpx.Response:
        return await self.http.post(f"{API}/link-preview", json={"url": url}, headers=who)


@pytest.fixture(scope="module")
async def shop(servers: Servers, database_factory: DatabaseFactory) -> AsyncIterator[Shop]:
    pages = {
        "/og": response(OPEN_GRAPH),
        "/json-ld": response(JSON_LD),
        "/microdata": response(MICRODATA.encode("latin-1"), content_type="text/html"),
        "/moved": redirect("/og?from=moved", "301 Moved Permanently"),
        "/og?from=moved": response(OPEN_GRAPH),
        "/missing": response("gone", status="404 Not Found"),
    }
    async with (
        page_server(pages) as site,
        page_server() as trap,
        fresh_namespace(servers) as namespace,
    ):
        site.pages["/to-trap"] = redirect(trap.url("/admin"))
        database = await database_factory.create(["auth", "wishlists", "notifier"])
        stack = Stack(servers, database, namespace)
        try:
            await stack.start_platform(
                {
                    "gateway": {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"},
                    "wishlists": {
                        "WISHLISTS_LINK_PREVIEW_TEST_ALLOWED_ADDRESSES": site.address,
                        "WISHLISTS_LINK_PREVIEW_RATE_LIMIT": str(RATE_LIMIT),
                    },
                }
            )
            async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=20) as http:
                yield Shop(http, site, trap)
        finally:
            await stack.stop()
            await database_factory.drop(database.name)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/og",
            {"title": "Delta kite, red", "image": "/img/delta.jpg", "price": "49.90", "cur": "EUR"},
        ),
        (
            "/json-ld",
            {
                "title": "Stunt kite",
                "image": "https://cdn.shop.example/stunt.png",
                "price": "1299.00",
                "cur": "USD",
            },
        ),
        (
            "/microdata",
            {
                "title": "Box kite \u00e9t\u00e9",
                "image": "/box.jpg",
                "price": "24.50",
                "cur": "CHF",
            },
        ),
    ],
)
async def test_a_pasted_link_fills_in_title_image_and_price(
    shop: Shop, path: str, expected: dict[str, str]
) -> None:
    who = await shop.user()
    answer = await shop.preview(who, shop.site.url(path))
    assert answer.status_code == 200, answer.text
    image = expected["image"]
    assert answer.json() == {
        "url": shop.site.url(path),
        "title": expected["title"],
        "image_url": shop.site.url(image) if image.startswith("/") else image,
        "price": expected["price"],
        "currency": expected["cur"],
    }


async def test_the_same_link_again_is_answered_from_the_cache(shop: Shop) -> None:
    first_user, second_user = await shop.user(), await shop.user()
    url = shop.site.url("/moved")
    first = await shop.preview(first_user, url)
    assert first.status_code == 200, first.text
    assert first.json()["url"] == shop.site.url("/og?from=moved")  # where it led
    again = await shop.preview(second_user, url + "#reviews")  # the same page
    assert again.json() == first.json()
    assert shop.site.hits("/moved") == 1
    assert shop.site.hits("/og?from=moved") == 1


async def test_too_many_previews_are_refused_with_retry_after(shop: Shop) -> None:
    who, other = await shop.user(), await shop.user()
    url = shop.site.url("/og")
    for _ in range(RATE_LIMIT):
        assert (await shop.preview(who, url)).status_code == 200
    refused = await shop.preview(who, url)
    assert refused.status_code == 429
    assert refused.json()["type"] == "/problems/rate-limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Per user: someone else still gets theirs.
    assert (await shop.preview(other, url)).status_code == 200


async def test_a_redirect_to_a_refused_address_is_refused_and_never_followed(shop: Shop) -> None:
    who = await shop.user()
    answer = await shop.preview(who, shop.site.url("/to-trap"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "/problems/url-not-allowed"
    assert shop.site.hits("/to-trap") == 1
    assert shop.trap.connections == 0


async def test_a_page_that_cannot_be_read_is_a_502_that_says_why(shop: Shop) -> None:
    who = await shop.user()
    answer = await shop.preview(who, shop.site.url("/missing"))
    assert answer.status_code == 502, answer.text
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == "/problems/link-unreadable"
    assert "404" in problem["detail"]
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_previews_are_for_signed_in_users_only(shop: Shop) -> None:
    before = shop.site.connections
    answer = await shop.http.post(f"{API}/link-preview", json={"url": shop.site.url("/new")})
    assert answer.status_code == 401
    assert shop.site.connections == before
