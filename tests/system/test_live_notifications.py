"""The whole platform, live: what happens to a list reaches exactly the right sockets.

Auth, wishlists, notifier and the gateway run as real processes on the real
servers; clients do what a browser does: HTTP through the gateway, a ticket,
a WebSocket.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from live_platform import API, GATEWAY_LIMITS, Person, Platform, receive

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import SERVICES, Stack

pytestmark = pytest.mark.system


async def start_through(stack: Stack, rabbitmq_url: str) -> None:
    """Starts the platform with every service reaching RabbitMQ at ``rabbitmq_url``."""
    overrides = {n: {f"{n.upper()}_RABBITMQ_URL": rabbitmq_url} for n in SERVICES}
    await stack.start_platform(GATEWAY_LIMITS | overrides)


async def shared_list(platform: Platform, owner: Person, *viewers: Person) -> str:
    wishlist = await platform.post(owner, "/wishlists", {"title": "Birthday"})
    for viewer in viewers:
        await platform.post(owner, f"/wishlists/{wishlist['id']}/shares", {"email": viewer.email})
    # Everyone's shares are announced before the test watches what follows.
    for viewer in viewers:
        await eventually(lambda v=viewer: platform.notifications(v), timeout=20)
    return str(wishlist["id"])


async def test_viewers_hear_of_items_and_reservations_live_and_the_owner_of_nothing_reserved(
    platform: Platform,
) -> None:
    owner, ann, ben, stranger = [
        await platform.person(n) for n in ("Olive", "Ann", "Ben", "Stella")
    ]
    wishlist = await shared_list(platform, owner, ann, ben)

    async with (
        platform.socket(ann) as ann_tab,
        platform.socket(ann) as ann_phone,
        platform.socket(ben) as ben_ws,
        platform.socket(owner) as owner_ws,
        platform.socket(stranger) as stranger_ws,
    ):
        item = await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": "Kite"})
        for ws in (ann_tab, ann_phone, ben_ws):
            added = await receive(ws)
            assert added["kind"] == "item_added"
            assert added["data"]["item"]["id"] == item["id"]

        await platform.post(ann, f"/wishlists/{wishlist}/items/{item['id']}/reservations", {})
        reserved = await receive(ben_ws)
        assert reserved["kind"] == "item_reserved"
        assert reserved["data"]["item"]["id"] == item["id"]

        # The owner's only way to hear of a list is a notification; none about
        # items or reservations exists for them, so none was pushed.
        assert await platform.notifications(owner) == []
        assert await platform.notifications(stranger) == []
        # A notification for the owner does arrive: their socket was live all along.
        friend = await platform.person("Fred")
        await shared_list(platform, friend, owner)
        first_for_owner = await receive(owner_ws)
        assert first_for_owner["kind"] == "wishlist_shared"
        assert [n["id"] for n in await platform.notifications(owner)] == [first_for_owner["id"]]

        # Ann reserved, so only Ben heard of it; Ann's two sockets agree with her inbox.
        ann_inbox = await platform.notifications(ann)
        assert [n["kind"] for n in ann_inbox] == ["item_added", "wishlist_shared"]
        assert stranger_ws.close_code is None


async def test_a_socket_that_resumes_after_a_gap_gets_what_it_missed_once_in_order(
    platform: Platform,
) -> None:
    owner, ann = await platform.person("Opal"), await platform.person("Ann")
    wishlist = await shared_list(platform, owner, ann)
    async with platform.socket(ann) as ws:
        await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": "Book"})
        # The share's notification is stored before the socket opens, but its
        # push can still be on its way from the notifier's relay and come first.
        seen = await receive(ws)
        while seen["data"].get("item", {}).get("title") != "Book":
            seen = await receive(ws)
        last_seen = seen["id"]

    for title in ("Lamp", "Mug", "Scarf"):
        await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": title})
    await eventually(lambda: len_is(platform, ann, 5), timeout=20)

    async with platform.socket(ann, after=last_seen) as ws:
        replayed = [await receive(ws) for _ in range(3)]
        assert [n["data"]["item"]["title"] for n in replayed] == ["Lamp", "Mug", "Scarf"]
        await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": "Tea"})
        live = await receive(ws)
        assert live["data"]["item"]["title"] == "Tea"

    inbox = await platform.notifications(ann)
    assert [n["id"] for n in inbox[:4]] == [live["id"], *[n["id"] for n in reversed(replayed)]]
    unread = await platform.http.get(f"{API}/notifications/unread-count", headers=ann.headers)
    assert unread.json() == {"count": 6}
    read_all = await platform.http.post(f"{API}/notifications/read-all", headers=ann.headers)
    assert read_all.status_code == 204
    unread = await platform.http.get(f"{API}/notifications/unread-count", headers=ann.headers)
    assert unread.json() == {"count": 0}


async def len_is(platform: Platform, who: Person, count: int) -> bool:
    return len(await platform.notifications(who)) == count


async def test_notifications_made_while_rabbitmq_is_unreachable_arrive_once_it_is_back(
    stack: Stack, servers: Servers
) -> None:
    rabbit = urlsplit(servers.rabbitmq_url)
    proxy = TcpProxy(rabbit.hostname or "127.0.0.1", rabbit.port or 5672)
    await proxy.start()
    try:
        host = rabbit.netloc.split("@")[-1]
        await start_through(stack, servers.rabbitmq_url.replace(host, f"127.0.0.1:{proxy.port}"))
        async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=20) as http:
            platform = Platform(stack, http)
            owner, ann = await platform.person("Otto"), await platform.person("Ann")
            wishlist = await shared_list(platform, owner, ann)
            async with platform.socket(ann) as ws:
                proxy.cut()
                for title in ("Pen", "Cup"):
                    await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": title})
                proxy.restore()
                arrived = [await receive(ws) for _ in range(2)]
            assert sorted(n["data"]["item"]["title"] for n in arrived) == ["Cup", "Pen"]
            kinds = [n["kind"] for n in await platform.notifications(ann)]
            assert sorted(kinds) == ["item_added", "item_added", "wishlist_shared"]
    finally:
        await proxy.stop()
