"""API5:2023 Broken function-level authorisation.

A viewer calling the owner's functions, the owner calling the reserver's,
a link visitor or an anonymous caller calling anything that needs an account,
and headers that claim to be someone: all refused, nothing changes. A viewer
already sees the list, so their refusal is a 403 (it confirms nothing); the
owner reserving is a 403 as the SPEC says; no token is a 401 everywhere,
at the gateway and at each service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Person, Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
NOBODY = "00000000-0000-4000-8000-000000000000"


async def _state(platform: Platform, owner: Person, viewer: Person, wid: str) -> dict[str, Any]:
    return {
        "list": await platform.ok(owner, "GET", f"/wishlists/{wid}"),
        "shares": await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"),
        "viewers": await platform.ok(viewer, "GET", f"/wishlists/{wid}"),
        "reservations": await platform.ok(viewer, "GET", "/reservations"),
    }


async def test_a_viewer_cannot_call_the_owners_functions(platform: Platform) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    link = await platform.ok(owner, "POST", f"/wishlists/{wid}/link")
    share = (await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"))["items"][0]
    before = await _state(platform, owner, viewer, wid)

    base = f"/wishlists/{wid}"
    owner_only: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", base, {"title": "mine now"}),
        ("DELETE", base, None),
        ("POST", f"{base}/items", {"title": "planted"}),
        ("PATCH", f"{base}/items/{item}", {"title": "changed"}),
        ("DELETE", f"{base}/items/{item}", None),
        ("POST", f"{base}/shares", {"email": "friend-of-vera@example.com"}),
        ("GET", f"{base}/shares", None),
        ("DELETE", f"{base}/shares/{share['id']}", None),
        ("POST", f"{base}/link", None),
        ("DELETE", f"{base}/link", None),
        ("POST", f"{base}/reveal", {"early": True}),
        ("POST", f"{base}/items/{item}/received", None),
    ]
    for target in ("gateway", "wishlists"):
        for method, path, body in owner_only:
            response = await platform.http.request(
                method,
                f"{platform.stack.url(target)}{API}{path}",
                json=body,
                headers=viewer.headers,
            )
            assert response.status_code == 403, (target, method, path, response.text)
    assert await _state(platform, owner, viewer, wid) == before
    # The link the viewer could have replaced or revoked still works.
    assert (await platform.call(None, "GET", f"/shared/{link['token']}")).status_code == 200


async def test_the_owner_cannot_reserve_or_cancel_on_their_own_list(platform: Platform) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    await platform.ok(viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {})
    reserve = await platform.call(
        owner, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
    )
    cancel = await platform.call(
        owner, "DELETE", f"/wishlists/{wid}/items/{item}/reservations/mine"
    )
    assert (reserve.status_code, cancel.status_code) == (403, 403)
    assert (await platform.ok(viewer, "GET", f"/wishlists/{wid}"))["items"][0][
        "reserved_quantity"
    ] == 1
    assert (await platform.ok(owner, "GET", "/reservations"))["items"] == []


async def test_without_an_account_only_the_public_routes_answer(platform: Platform) -> None:
    owner = await platform.person("Olga")
    wid, item = await platform.shared_list(owner)
    link = await platform.ok(owner, "POST", f"/wishlists/{wid}/link")
    routes: list[tuple[str, str, str]] = [
        ("auth", "GET", "/auth/me"),
        ("auth", "PATCH", "/auth/me"),
        ("auth", "DELETE", "/auth/me"),
        ("auth", "POST", "/auth/me/password"),
        ("wishlists", "GET", "/wishlists"),
        ("wishlists", "POST", "/wishlists"),
        ("wishlists", "GET", "/wishlists/shared-with-me"),
        ("wishlists", "GET", f"/wishlists/{wid}"),
        ("wishlists", "DELETE", f"/wishlists/{wid}"),
        ("wishlists", "POST", f"/wishlists/{wid}/items"),
        ("wishlists", "DELETE", f"/wishlists/{wid}/items/{item}"),
        ("wishlists", "GET", f"/wishlists/{wid}/shares"),
        ("wishlists", "POST", f"/wishlists/{wid}/link"),
        ("wishlists", "POST", f"/wishlists/{wid}/items/{item}/reservations"),
        ("wishlists", "GET", "/reservations"),
        ("wishlists", "PATCH", f"/reservations/{NOBODY}"),
        ("wishlists", "POST", f"/shared/{link['token']}/join"),
        ("notifier", "GET", "/notifications"),
        ("notifier", "GET", "/notifications/unread-count"),
        ("notifier", "POST", "/notifications/read-all"),
        ("notifier", "POST", f"/notifications/{NOBODY}/read"),
        ("gateway", "POST", "/realtime/ticket"),
    ]
    for service, method, path in routes:
        targets = ("gateway",) if service == "gateway" else ("gateway", service)
        for target in targets:
            response = await platform.http.request(
                method, f"{platform.stack.url(target)}{API}{path}", json={}
            )
            assert response.status_code == 401, (target, method, path, response.text)
    # A link visitor may read, and only read.
    for method in ("PATCH", "DELETE", "POST", "PUT"):
        response = await platform.call(None, method, f"/shared/{link['token']}", {})
        assert response.status_code in (401, 404, 405), (method, response.text)
    assert (await platform.ok(owner, "GET", f"/wishlists/{wid}"))["items"][0]["id"] == item


async def test_headers_that_name_a_user_grant_nothing(platform: Platform) -> None:
    owner, attacker = await platform.person("Olga"), await platform.person("Mal")
    wid, _ = await platform.shared_list(owner)
    spoofed = {
        "X-User-Id": owner.id,
        "X-Internal-User": owner.id,
        "X-Forwarded-User": owner.id,
        "X-Real-IP": "10.0.0.1",
        "Forwarded": "for=10.0.0.1",
    }
    for method, path in (("GET", f"/wishlists/{wid}"), ("DELETE", f"/wishlists/{wid}")):
        response = await platform.call(attacker, method, path, headers=spoofed)
        assert response.status_code == 404, (method, path, response.text)
        anonymous = await platform.call(None, method, path, headers=spoofed)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
    assert await platform.sees(owner, wid)
