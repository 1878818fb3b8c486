"""API7:2023 Server-side request forgery: what applies.

No service fetches anything a user supplies. Item ``url`` and ``image_url``
are stored and returned as text, for the browser to follow; only absolute
``http``/``https`` URLs are accepted. Proven with a listener on loopback that
every such URL points at: through creating, reading, sharing and notifying,
nothing ever connects to it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.testing.eventually import eventually

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


async def _told(platform: Platform, who: Person, item_id: str) -> str | None:
    for n in await platform.notifications(who):
        if n["kind"] == "item_added" and n["data"]["item"]["id"] == item_id:
            image: str | None = n["data"]["item"]["image_url"]
            return image
    return None
