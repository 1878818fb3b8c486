"""API7:2023 Server-side request forgery: what applies.

One route fetches a URL a user supplies: ``POST /api/v1/link-preview`` (in
wishlists) reads a product page to pre-fill an item. It is guarded
(``wishlists.previews``): only ``http``/``https`` without credentials; the host
resolved once and every address it resolves to public unicast (no loopback,
private, link-local or metadata, unique-local, CGNAT, multicast, reserved, nor
IPv6 that embeds such an IPv4); the connection made to that vetted address;
each redirect checked again, at most five; time, size and content-type limits.
A refused link is a 422 ``/problems/url-not-allowed``.

Here, against the shared platform, whose wishlists has an EMPTY test allowlist:
every spelling of a loopback address (names, decimal, hex, octal, IPv6,
IPv4-mapped) and every other scheme is refused, and a trap listening there
never sees a connection. The rules on other addresses are unit tests of pure
functions (``services/wishlists/tests/unit/previews/test_guard.py``), never
contacted; a redirect from an allowed page to the trap, the cache and the rate
limit are in ``tests/system/test_link_preview.py``; limits, pinning and cookies
in ``services/wishlists/tests/integration/previews/test_fetch.py``.

Nothing else fetches a user's URL. Item ``url`` and ``image_url`` are stored and
returned as text, for the browser to follow; only absolute ``http``/``https``
URLs are accepted. Proven with a listener on loopback that every such URL
points at: through creating, reading, sharing and notifying, nothing ever
connects to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.pages import has_ipv6_loopback, page_server

if TYPE_CHECKING:
    from conftest import Person, Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]


async def test_no_service_ever_fetches_a_url_a_user_supplied(platform: Platform) -> None:
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(str(writer.get_extra_info("peername")))
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        owner, viewer = await platform.person("Olga"), await platform.person("Vera")
        wid, _ = await platform.shared_list(owner, viewer)
        target = f"http://127.0.0.1:{port}"
        item = await platform.ok(
            owner,
            "POST",
            f"/wishlists/{wid}/items",
            {"title": "Trap", "url": f"{target}/page", "image_url": f"{target}/image.png"},
        )
        await platform.ok(
            owner, "PATCH", f"/wishlists/{wid}/items/{item['id']}", {"url": f"{target}/again"}
        )
        link = await platform.ok(owner, "POST", f"/wishlists/{wid}/link")
        await platform.ok(viewer, "GET", f"/wishlists/{wid}")
        await platform.call(None, "GET", f"/shared/{link['token']}")
        await platform.ok(viewer, "POST", f"/wishlists/{wid}/items/{item['id']}/reservations", {})
        # The viewer was notified with the image URL in the notification: the
        # whole event path has run.
        told = await eventually(lambda: _told(platform, viewer, item["id"]), timeout=20)
        assert told == f"{target}/image.png"
        await asyncio.sleep(0.5)  # a fetch started by any of it would have connected by now
        assert connections == []
    finally:
        listener.close()
        await listener.wait_closed()


async def test_only_web_urls_are_accepted(platform: Platform) -> None:
    owner = await platform.person("Olga")
    wid, _ = await platform.shared_list(owner)
    for url in (
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "javascript:alert(1)",
        "data:text/html,hi",
        "//127.0.0.1/x",
        "http:///nohost",
    ):
        for field in ("url", "image_url"):
            response = await platform.call(
                owner, "POST", f"/wishlists/{wid}/items", {"title": "x", field: url}
            )
            assert response.status_code == 422, (field, url, response.text)


async def test_link_previews_never_reach_this_machine(platform: Platform) -> None:
    owner = await platform.person("Lena")
    async with contextlib.AsyncExitStack() as traps:
        v4 = await traps.enter_async_context(page_server(host="127.0.0.1"))
        p = v4.port
        urls = [
            f"http://127.0.0.1:{p}/",
            f"http://localhost:{p}/",
            f"http://2130706433:{p}/",
            f"http://0x7f000001:{p}/",
            f"http://0177.0.0.1:{p}/",
            f"http://127.1:{p}/",
            f"http://[::ffff:127.0.0.1]:{p}/",
            f"http://[::ffff:7f00:1]:{p}/",
            f"https://127.0.0.1:{p}/",
        ]
        v6 = None
        if has_ipv6_loopback():
            v6 = await traps.enter_async_context(page_server(host="::1"))
            urls += [f"http://[::1]:{v6.port}/", f"http://[0:0:0:0:0:0:0:1]:{v6.port}/"]
        else:
            urls.append(f"http://[::1]:{p}/")
        for url in urls:
            response = await platform.call(owner, "POST", "/link-preview", {"url": url})
            assert response.status_code == 422, (url, response.text)
            assert response.json()["type"] == "/problems/url-not-allowed", url
        assert v4.connections == 0
        assert v6 is None or v6.connections == 0


async def test_link_previews_fetch_only_web_urls(platform: Platform) -> None:
    owner = await platform.person("Lena")
    for url in (
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
        "gopher://127.0.0.1:6379/_INFO",
        "data:text/html,<title>hi</title>",
        "javascript:alert(1)",
        "http://user:secret@127.0.0.1/",
    ):
        response = await platform.call(owner, "POST", "/link-preview", {"url": url})
        assert response.status_code == 422, (url, response.text)
        assert response.json()["type"] == "/problems/url-not-allowed", url


async def _told(platform: Platform, who: Person, item_id: str) -> str | None:
    for n in await platform.notifications(who):
        if n["kind"] == "item_added" and n["data"]["item"]["id"] == item_id:
            image: str | None = n["data"]["item"]["image_url"]
            return image
    return None
