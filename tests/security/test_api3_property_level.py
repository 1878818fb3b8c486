"""API3:2023 Broken object property-level authorisation.

Mass assignment: fields the server owns (``id``, ``owner_id``, timestamps,
``reserved_*``, the reserver) are refused in every wishlists body (422 naming
the field, nothing changes) and ignored by auth. Excessive exposure: every
response carries exactly its documented fields, and the owner's view is the
same whatever is reserved (the surprise rule).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

USER = {"id", "email", "display_name", "created_at"}
TOKENS = {"access_token", "refresh_token", "token_type", "expires_in"}
WISHLIST = {
    "id", "owner_id", "owner_display_name", "title", "description", "occasion_date",
    "created_at", "updated_at", "revealed_at",
}  # fmt: skip
ITEM = {
    "id", "title", "url", "price", "currency", "image_url", "quantity", "priority", "notes",
    "created_at", "updated_at", "suggested_by", "received_at",
}  # fmt: skip
VIEWERS_ITEM = ITEM | {"reserved_quantity", "reserved_by_me", "reserved_by"}
SHARE = {
    "id", "wishlist_id", "email", "status", "viewer_id", "viewer_display_name", "via",
    "created_at", "activated_at",
}  # fmt: skip
RESERVATION = {
    "id", "item_id", "wishlist_id", "quantity", "purchased", "show_name", "created_at",
    "updated_at", "item", "wishlist",
}  # fmt: skip
NOTIFICATION = {"id", "kind", "created_at", "read", "data"}
PAGE = {"items", "next_cursor"}


async def test_server_owned_fields_are_refused_in_every_wishlists_body(
    platform: Platform,
) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    reservation = await platform.ok(
        viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
    )
    other = "00000000-0000-4000-8000-000000000001"
    attempts: list[tuple[Any, str, str, dict[str, Any]]] = [
        (owner, "POST", "/wishlists", {"title": "x", "owner_id": other}),
        (owner, "POST", "/wishlists", {"title": "x", "id": other}),
        (owner, "POST", "/wishlists", {"title": "x", "created_at": "2000-01-01T00:00:00Z"}),
        (owner, "PATCH", f"/wishlists/{wid}", {"owner_id": other}),
        (owner, "PATCH", f"/wishlists/{wid}", {"updated_at": "2000-01-01T00:00:00Z"}),
        (owner, "POST", f"/wishlists/{wid}/items", {"title": "x", "reserved_quantity": 1}),
        (owner, "POST", f"/wishlists/{wid}/items", {"title": "x", "id": other}),
        (owner, "PATCH", f"/wishlists/{wid}/items/{item}", {"reserved_quantity": 0}),
        (owner, "PATCH", f"/wishlists/{wid}/items/{item}", {"reserved_by_me": True}),
        (owner, "PATCH", f"/wishlists/{wid}/items/{item}", {"wishlist_id": other}),
        (owner, "POST", f"/wishlists/{wid}/shares", {"email": "a@example.com", "status": "active"}),
        (owner, "POST", f"/wishlists/{wid}/shares", {"email": "a@example.com", "viewer_id": other}),
        (viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"reserver_id": other}),
        (viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"purchased": True}),
        (viewer, "PATCH", f"/reservations/{reservation['id']}", {"quantity": 3}),
        (viewer, "PATCH", f"/reservations/{reservation['id']}", {"item_id": other}),
    ]
    before = await _world(platform, owner, viewer, wid)
    for who, method, path, body in attempts:
        response = await platform.call(who, method, path, body)
        assert response.status_code == 422, (method, path, body, response.text)
        fields = {e["field"] for e in response.json()["errors"]}
        assert {f"body.{name}" for name in body} - {"body.title", "body.email"} <= fields, fields
    assert await _world(platform, owner, viewer, wid) == before


async def test_auth_ignores_fields_a_client_may_not_set(platform: Platform) -> None:
    person = await platform.person("Ida")
    someone = await platform.person("Sid")
    email = f"new-{person.id[:8]}@example.com"
    registered = await platform.call(
        None,
        "POST",
        "/auth/register",
        {"email": email, "password": "long enough pw", "display_name": "N", "id": someone.id},
        headers={"X-Forwarded-For": person.address},
    )
    assert registered.status_code in (201, 422), registered.text
    if registered.status_code == 201:
        assert registered.json()["id"] != someone.id
    changed = await platform.call(
        person,
        "PATCH",
        "/auth/me",
        {"display_name": "Ida", "email": someone.email, "id": someone.id},
    )
    assert changed.status_code in (200, 422), changed.text
    me = await platform.ok(person, "GET", "/auth/me")
    assert (me["id"], me["email"]) == (person.id, person.email)
    # Sid's account is untouched and still Sid's.
    assert (await platform.ok(someone, "GET", "/auth/me"))["email"] == someone.email


async def test_every_response_carries_exactly_its_documented_fields(platform: Platform) -> None:
    owner, viewer = await platform.person("Olga"), await platform.person("Vera")
    wid, item = await platform.shared_list(owner, viewer)
    reservation = await platform.ok(
        viewer, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
    )
    link = await platform.ok(owner, "POST", f"/wishlists/{wid}/link")
    tokens = await platform.call(
        None,
        "POST",
        "/auth/refresh",
        {"refresh_token": owner.refresh_token},
        headers={"X-Forwarded-For": owner.address},
    )

    assert set(tokens.json()) == TOKENS
    assert set(await platform.ok(owner, "GET", "/auth/me")) == USER
    owners = await platform.ok(owner, "GET", f"/wishlists/{wid}")
    assert set(owners) == WISHLIST | {"items"}
    assert [set(i) for i in owners["items"]] == [ITEM]
    viewers = await platform.ok(viewer, "GET", f"/wishlists/{wid}")
    assert [set(i) for i in viewers["items"]] == [VIEWERS_ITEM]
    public = (await platform.call(None, "GET", f"/shared/{link['token']}")).json()
    assert set(public) == WISHLIST | {"items"}
    assert [set(i) for i in public["items"]] == [ITEM]
    assert set(link) == {"token", "url"}
    for page, shape in (
        ("/wishlists", WISHLIST),
        (f"/wishlists/{wid}/shares", SHARE),
    ):
        body = await platform.ok(owner, "GET", page)
        assert set(body) == PAGE
        assert all(set(row) == shape for row in body["items"]), page
    shared = await platform.ok(viewer, "GET", "/wishlists/shared-with-me")
    assert all(set(row) == WISHLIST for row in shared["items"])
    assert set(reservation) == RESERVATION
    assert set(reservation["item"]) == ITEM
    assert set(reservation["wishlist"]) == WISHLIST
    inbox = await eventually(lambda: platform.notifications(viewer), timeout=20)
    assert all(set(n) == NOTIFICATION for n in inbox)


async def test_the_owner_learns_nothing_of_reservations_anywhere(platform: Platform) -> None:
    owner, ann, ben = [await platform.person(n) for n in ("Olga", "Ann", "Ben")]
    wid, item = await platform.shared_list(owner, ann, ben)
    link = await platform.ok(owner, "POST", f"/wishlists/{wid}/link")

    async def owners_view() -> dict[str, Any]:
        return {
            "list": await platform.ok(owner, "GET", f"/wishlists/{wid}"),
            "lists": await platform.ok(owner, "GET", "/wishlists"),
            "shares": await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"),
            "public": (await platform.call(None, "GET", f"/shared/{link['token']}")).json(),
            "inbox": await platform.notifications(owner),
            "reserve": (
                await platform.call(
                    owner, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 1}
                )
            ).json(),
        }

    async with platform.socket(owner.headers) as owner_socket:
        before = await owners_view()
        await platform.ok(
            ann, "POST", f"/wishlists/{wid}/items/{item}/reservations", {"quantity": 3}
        )
        # Ben heard of it: the event has gone through the whole pipeline.
        await eventually(
            lambda: _has_kind(platform, ben, "item_reserved"), timeout=20, message="not told"
        )
        assert await owners_view() == before
        assert before["reserve"]["status"] == 403
        # Nothing was pushed to the owner either.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(owner_socket.recv(), 1.0)


async def _has_kind(platform: Platform, who: Any, kind: str) -> bool:
    return any(n["kind"] == kind for n in await platform.notifications(who))


async def _world(platform: Platform, owner: Any, viewer: Any, wid: str) -> dict[str, Any]:
    return {
        "lists": await platform.ok(owner, "GET", "/wishlists?limit=200"),
        "list": await platform.ok(owner, "GET", f"/wishlists/{wid}"),
        "viewers": await platform.ok(viewer, "GET", f"/wishlists/{wid}"),
        "shares": await platform.ok(owner, "GET", f"/wishlists/{wid}/shares"),
        "reservations": await platform.ok(viewer, "GET", "/reservations"),
    }
