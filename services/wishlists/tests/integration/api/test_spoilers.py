"""Spoiler control: a reserver chooses whether the other viewers see their name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api, User

pytestmark = pytest.mark.system

API = "/api/v1"


async def _reserve(api: Api, who: User, wid: str, item_id: str, **body: Any) -> Any:
    return await api.gateway.post(
        f"{API}/wishlists/{wid}/items/{item_id}/reservations", json=body, headers=who.auth
    )


async def _item(api: Api, who: User, wid: str, item_id: str) -> dict[str, Any]:
    items = (await api.get_list(who, wid)).json()["items"]
    found: dict[str, Any] = next(i for i in items if i["id"] == item_id)
    return found


async def test_an_anonymous_reservation_shows_no_name_to_other_viewers(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Annabel", "Ben")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    lego = await api.add_item(owner, wid, title="Lego", quantity=3)
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)

    made = await _reserve(api, ann, wid, lego["id"])
    assert made.status_code == 201, made.text
    assert made.json()["show_name"] is False

    seen = await api.get_list(ben, wid)
    assert b"Annabel" not in seen.content
    assert ann.id.encode() not in seen.content
    item = await _item(api, ben, wid, lego["id"])
    assert item["reserved_quantity"] == 1
    assert item["reserved_by"] == []


async def test_a_named_reservation_shows_the_name_and_can_be_hidden_again(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Annabel", "Ben")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    lego = await api.add_item(owner, wid, title="Lego", quantity=3)
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)
    owners_view = (await api.get_list(owner, wid)).content

    made = (await _reserve(api, ann, wid, lego["id"], quantity=2, show_name=True)).json()
    assert made["show_name"] is True
    assert (await _reserve(api, ben, wid, lego["id"])).status_code == 201

    item = await _item(api, ben, wid, lego["id"])
    assert item["reserved_quantity"] == 3
    assert item["reserved_by"] == [{"user_id": ann.id, "display_name": "Annabel", "quantity": 2}]
    # Her own view names her too; Ben's anonymous one is not listed for her.
    assert (await _item(api, ann, wid, lego["id"]))["reserved_by"] == item["reserved_by"]
    # The owner learns nothing, named or not.
    assert (await api.get_list(owner, wid)).content == owners_view

    hidden = await api.gateway.patch(
        f"{API}/reservations/{made['id']}", json={"show_name": False}, headers=ann.auth
    )
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["show_name"] is False
    assert hidden.json()["purchased"] is False
    assert (await _item(api, ben, wid, lego["id"]))["reserved_by"] == []


async def test_a_reservation_patch_must_change_something(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"])
    await api.make_viewer(owner, wishlist["id"], ann)
    made = (await _reserve(api, ann, wishlist["id"], item["id"])).json()
    path = f"{API}/reservations/{made['id']}"
    for body in ({}, {"show_name": None}, {"show_name": "yes"}, {"purchased": 1}):
        refused = await api.gateway.patch(path, json=body, headers=ann.auth)
        assert refused.status_code == 422, body
    assert (await _reserve(api, ann, wishlist["id"], item["id"], show_name="no")).status_code == 422
