"""Share links through the gateway: a read-only view without login, and joining as a viewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api

pytestmark = pytest.mark.system

API = "/api/v1"


async def test_a_link_shows_the_list_to_anyone_without_reservation_detail(api: Api) -> None:
    owner, viewer = await api.users("Olga", "Vera")
    wishlist = await api.create_list(owner, title="Housewarming")
    item = await api.add_item(owner, wishlist["id"], title="Lamp", quantity=2)
    await api.make_viewer(owner, wishlist["id"], viewer)
    assert (await api.reserve(viewer, wishlist["id"], item["id"])).status_code == 201

    link = await api.gateway.post(f"{API}/wishlists/{wishlist['id']}/link", headers=owner.auth)
    assert link.status_code == 201
    token = link.json()["token"]
    assert link.json()["url"].endswith(token)

    public = await api.gateway.get(f"{API}/shared/{token}")
    assert public.status_code == 200
    assert public.json() == (await api.get_list(owner, wishlist["id"])).json()
    assert "reserved" not in public.text
    # Even a viewer's token does not add reservation facts to the public view.
    as_viewer = await api.gateway.get(f"{API}/shared/{token}", headers=viewer.auth)
    assert as_viewer.json() == public.json()


async def test_creating_a_link_again_replaces_it_and_deleting_revokes_it(api: Api) -> None:
    owner = await api.user()
    wishlist = await api.create_list(owner)
    path = f"{API}/wishlists/{wishlist['id']}/link"
    first = (await api.gateway.post(path, headers=owner.auth)).json()["token"]
    second = (await api.gateway.post(path, headers=owner.auth)).json()["token"]
    assert first != second
    assert (await api.gateway.get(f"{API}/shared/{first}")).status_code == 404
    assert (await api.gateway.get(f"{API}/shared/{second}")).status_code == 200
    assert (await api.gateway.delete(path, headers=owner.auth)).status_code == 204
    assert (await api.gateway.get(f"{API}/shared/{second}")).status_code == 404
    assert (await api.gateway.delete(path, headers=owner.auth)).status_code == 204


async def test_joining_through_a_link_makes_the_caller_a_viewer(api: Api) -> None:
    owner, guest = await api.users("Olga", "Gus")
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"])
    token = (
        await api.gateway.post(f"{API}/wishlists/{wishlist['id']}/link", headers=owner.auth)
    ).json()["token"]
    assert (await api.get_list(guest, wishlist["id"])).status_code == 404

    anonymous = await api.gateway.post(f"{API}/shared/{token}/join")
    assert anonymous.status_code == 401
    joined = await api.gateway.post(f"{API}/shared/{token}/join", headers=guest.auth)
    assert joined.status_code == 200
    assert joined.json()["items"][0] == item | {
        "reserved_quantity": 0,
        "reserved_by_me": False,
        "reserved_by": [],
    }
    again = await api.gateway.post(f"{API}/shared/{token}/join", headers=guest.auth)
    assert again.json() == joined.json()

    assert (await api.get_list(guest, wishlist["id"])).status_code == 200
    assert (await api.reserve(guest, wishlist["id"], item["id"])).status_code == 201
    shares = (
        await api.gateway.get(f"{API}/wishlists/{wishlist['id']}/shares", headers=owner.auth)
    ).json()["items"]
    assert [(s["via"], s["viewer_id"], s["email"]) for s in shares] == [("link", guest.id, None)]

    # Revoking the link keeps those who joined.
    await api.gateway.delete(f"{API}/wishlists/{wishlist['id']}/link", headers=owner.auth)
    assert (await api.get_list(guest, wishlist["id"])).status_code == 200


async def test_the_owner_joining_their_own_link_changes_nothing(api: Api) -> None:
    owner = await api.user()
    wishlist = await api.create_list(owner)
    token = (
        await api.gateway.post(f"{API}/wishlists/{wishlist['id']}/link", headers=owner.auth)
    ).json()["token"]
    joined = await api.gateway.post(f"{API}/shared/{token}/join", headers=owner.auth)
    assert joined.status_code == 200
    assert joined.json() == (await api.get_list(owner, wishlist["id"])).json()
    shares = await api.gateway.get(f"{API}/wishlists/{wishlist['id']}/shares", headers=owner.auth)
    assert shares.json()["items"] == []


@pytest.mark.parametrize("token", ["nope", "x" * 129, "%00"])
async def test_unknown_links_are_not_found(api: Api, token: str) -> None:
    assert (await api.gateway.get(f"{API}/shared/{token}")).status_code == 404
