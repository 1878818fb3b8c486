"""API1:2023 Broken object-level authorisation.

Every route that takes an id, called by another real user with the real ids
of someone else's lists, items, shares, reservations and notifications: 404,
the same 404 as an id that does not exist, and nothing changes. Asked of the
gateway and of each service directly (the services check again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from websockets.exceptions import ConnectionClosed

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
MISSING = "00000000-0000-4000-8000-000000000000"


async def _victims_world(platform: Platform) -> dict[str, Any]:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    share = (await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"))["items"][0]
    reservation = await platform.ok(
        viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
    )
    await platform.ok(owner, "POST", f"/wishlists/{wid}/link")
    notification = (await eventually(lambda: platform.notifications(viewer), timeout=20))[0]
    return {
        "owner": owner,
        "viewer": viewer,
        "wishlist": wid,
        "item": item,
        "share": share["id"],
        "reservation": reservation["id"],
        "notification": notification["id"],
    }


async def _snapshot(platform: Platform, world: dict[str, Any]) -> dict[str, Any]:
    owner, viewer, wid = world["owner"], world["viewer"], world["wishlist"]
    return {
        "owner_list": await platform.ok(owner, "GET", f"/wishlists/{wid}"),
        "viewer_list": await platform.ok(viewer, "GET", f"/wishlists/{wid}"),
        "shares": await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"),
        "reservations": await platform.ok(viewer, "GET", "/reservations"),
        "inbox": await platform.notifications(viewer),
    }


async def test_another_user_gets_404_on_every_route_with_real_ids_and_changes_nothing(
    platform: Platform,
) -> None:
    world = await _victims_world(platform)
    # The attacker is an ordinary user with data of their own.
    attacker = await platform.person("Mallory")
    own_list, own_item = await platform.shared_list(attacker)
    before = await _snapshot(platform, world)

    wid, item, share = world["wishlist"], world["item"], world["share"]
    base = f"/wishlists/{wid}"
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", base, None),
        ("PATCH", base, {"title": "stolen"}),
        ("DELETE", base, None),
        ("POST", f"{base}/items", {"title": "planted"}),
        ("PATCH", f"{base}/items/{item}", {"title": "stolen"}),
        ("DELETE", f"{base}/items/{item}", None),
        ("POST", f"{base}/shares", {"email": "mallory-friend@example.com"}),
        ("GET", f"{base}/shares", None),
        ("DELETE", f"{base}/shares/{share}", None),
        ("POST", f"{base}/link", None),
        ("DELETE", f"{base}/link", None),
        ("POST", f"{base}/items/{item}/reservations", {"quantity": 1}),
        ("DELETE", f"{base}/items/{item}/reservations/mine", None),
        ("POST", f"{base}/suggestions", {"title": "planted"}),
        ("PATCH", f"{base}/suggestions/{item}", {"title": "stolen"}),
        ("DELETE", f"{base}/suggestions/{item}", None),
        ("POST", f"{base}/reveal", {"early": True}),
        ("GET", f"{base}/archive", None),
        ("POST", f"{base}/items/{item}/received", None),
        ("PATCH", f"/reservations/{world['reservation']}", {"purchased": True}),
        ("POST", f"/notifications/{world['notification']}/read", None),
        ("GET", f"/notifications?after={world['notification']}", None),
        # Someone else's item or share under the attacker's own list.
        ("PATCH", f"/wishlists/{own_list}/items/{item}", {"title": "stolen"}),
        ("DELETE", f"/wishlists/{own_list}/items/{item}", None),
        ("DELETE", f"/wishlists/{own_list}/shares/{share}", None),
        # The attacker's own item under someone else's list.
        ("PATCH", f"{base}/items/{own_item}", {"title": "moved"}),
    ]
    real_ids = [wid, item, share, world["reservation"], world["notification"]]
    targets = {
        "gateway": platform.stack.url("gateway"),
        "wishlists": platform.stack.url("wishlists"),
        "notifier": platform.stack.url("notifier"),
    }
    for method, path, body in routes:
        service = "notifier" if path.startswith("/notifications") else "wishlists"
        for target in ("gateway", service):
            url = f"{targets[target]}{API}{path}"
            response = await platform.http.request(method, url, json=body, headers=attacker.headers)
            assert response.status_code == 404, (target, method, path, response.text)
            invented = url
            for real in real_ids:
                invented = invented.replace(real, MISSING)
            control = await platform.http.request(
                method, invented, json=body, headers=attacker.headers
            )
            assert control.status_code == 404, (target, method, invented)
            assert response.json() == control.json(), (target, method, path)

    assert await _snapshot(platform, world) == before
    for page in ("/wishlists/shared-with-me", "/reservations"):
        assert (await platform.ok(attacker, "GET", page))["items"] == [], page


async def test_a_socket_cannot_resume_after_someone_elses_notification(
    platform: Platform,
) -> None:
    world = await _victims_world(platform)
    attacker = await platform.person("Mallory")
    async with platform.socket(attacker.headers, after=world["notification"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404


async def test_a_former_viewer_loses_every_id_they_once_saw(platform: Platform) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    reservation = await platform.ok(
        viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
    )
    share = (await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"))["items"][0]
    await platform.ok(owner, "DELETE", f"/wishlists/{wid}/shares/{share['id']}")

    probes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/wishlists/{wid}", None),
        ("POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}),
        ("DELETE", f"/wishlists/{wid}/items/{item}/reservations/mine", None),
    ]
    for method, path, body in probes:
        response = await platform.call(viewer, method, path, body)
        assert response.status_code == 404, (method, path, response.text)
    # Nor their old reservation: it stays (hidden from the owner), out of reach.
    old = await platform.call(
        viewer, "PATCH", f"/reservations/{reservation['id']}", {"purchased": True}
    )
    assert old.status_code == 404, old.text
    assert (await platform.ok(viewer, "GET", "/reservations"))["items"] == []
