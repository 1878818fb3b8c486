"""Reservations through the gateway: reserving, cancelling, the shopping list, purchased."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api, User

pytestmark = pytest.mark.system

API = "/api/v1"


def _item(detail: dict[str, Any], item_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in detail["items"] if i["id"] == item_id)
    return found


async def _shared_list(api: Api, owner: User, *viewers: User, quantity: int = 1) -> tuple[str, str]:
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"], title="Lego", quantity=quantity)
    for viewer in viewers:
        await api.make_viewer(owner, wishlist["id"], viewer)
    return wishlist["id"], item["id"]


async def test_viewers_reserve_until_nothing_is_left(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist_id, item_id = await _shared_list(api, owner, ann, ben, quantity=3)

    first = await api.reserve(ann, wishlist_id, item_id, 2)
    assert first.status_code == 201, first.text
    reservation = first.json()
    assert (reservation["quantity"], reservation["purchased"]) == (2, False)
    assert reservation["item"]["title"] == "Lego"
    assert reservation["wishlist"]["owner_display_name"] == "Olga"
    assert "reserved_quantity" not in reservation["item"]

    seen_by_ben = _item((await api.get_list(ben, wishlist_id)).json(), item_id)
    assert (seen_by_ben["reserved_quantity"], seen_by_ben["reserved_by_me"]) == (2, False)
    seen_by_ann = _item((await api.get_list(ann, wishlist_id)).json(), item_id)
    assert (seen_by_ann["reserved_quantity"], seen_by_ann["reserved_by_me"]) == (2, True)

    too_many = await api.reserve(ben, wishlist_id, item_id, 2)
    assert too_many.status_code == 409
    assert too_many.json()["type"] == "/problems/not-enough-left"
    assert (await api.reserve(ben, wishlist_id, item_id)).status_code == 201
    assert (await api.reserve(ben, wishlist_id, item_id)).json()["type"] == (
        "/problems/already-reserved"
    )
    assert _item((await api.get_list(ben, wishlist_id)).json(), item_id)["reserved_quantity"] == 3


async def test_the_owner_may_not_reserve_or_cancel_on_their_own_list(api: Api) -> None:
    owner = await api.user()
    wishlist_id, item_id = await _shared_list(api, owner)
    reserved = await api.reserve(owner, wishlist_id, item_id)
    assert reserved.status_code == 403
    cancel = await api.gateway.delete(
        f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations/mine", headers=owner.auth
    )
    assert cancel.status_code == 403


async def test_cancelling_mine_frees_the_units(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist_id, item_id = await _shared_list(api, owner, ann, ben)
    assert (await api.reserve(ann, wishlist_id, item_id)).status_code == 201
    assert (await api.reserve(ben, wishlist_id, item_id)).status_code == 409
    mine = f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations/mine"
    assert (await api.gateway.delete(mine, headers=ben.auth)).status_code == 404
    assert (await api.gateway.delete(mine, headers=ann.auth)).status_code == 204
    assert (await api.gateway.delete(mine, headers=ann.auth)).status_code == 404
    assert (await api.reserve(ben, wishlist_id, item_id)).status_code == 201


@pytest.mark.parametrize("body", [{"quantity": 0}, {"quantity": 100}, {"quantity": "1"}, {"n": 1}])
async def test_a_bad_quantity_is_refused_and_reserves_nothing(
    api: Api, body: dict[str, Any]
) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist_id, item_id = await _shared_list(api, owner, ann)
    response = await api.gateway.post(
        f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations", json=body, headers=ann.auth
    )
    assert response.status_code == 422
    assert _item((await api.get_list(ann, wishlist_id)).json(), item_id)["reserved_quantity"] == 0


async def test_my_reservations_are_my_shopping_list_with_a_purchased_flag(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist_id, lego = await _shared_list(api, owner, ann, ben)
    book = (await api.add_item(owner, wishlist_id, title="Book"))["id"]
    first = (await api.reserve(ann, wishlist_id, lego)).json()
    second = (await api.reserve(ann, wishlist_id, book)).json()
    await api.reserve(ben, wishlist_id, (await api.add_item(owner, wishlist_id))["id"])

    page = await api.gateway.get(f"{API}/reservations", headers=ann.auth)
    assert page.status_code == 200
    assert [r["id"] for r in page.json()["items"]] == [second["id"], first["id"]]
    assert page.json()["next_cursor"] is None

    marked = await api.gateway.patch(
        f"{API}/reservations/{first['id']}", json={"purchased": True}, headers=ann.auth
    )
    assert marked.status_code == 200
    assert marked.json()["purchased"] is True
    page = (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()
    assert [r["purchased"] for r in page["items"]] == [False, True]
    unmarked = await api.gateway.patch(
        f"{API}/reservations/{first['id']}", json={"purchased": False}, headers=ann.auth
    )
    assert unmarked.json()["purchased"] is False

    for someone in (ben, owner):
        response = await api.gateway.patch(
            f"{API}/reservations/{first['id']}", json={"purchased": True}, headers=someone.auth
        )
        assert response.status_code == 404
    bad = await api.gateway.patch(
        f"{API}/reservations/{first['id']}", json={"purchased": "yes"}, headers=ann.auth
    )
    assert bad.status_code == 422
    assert (await api.gateway.get(f"{API}/reservations", headers=owner.auth)).json()["items"] == []


async def test_lowering_quantity_below_what_is_reserved_keeps_the_reservations(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist_id, item_id = await _shared_list(api, owner, ann, ben, quantity=3)
    assert (await api.reserve(ann, wishlist_id, item_id, 3)).status_code == 201

    lowered = await api.gateway.patch(
        f"{API}/wishlists/{wishlist_id}/items/{item_id}", json={"quantity": 1}, headers=owner.auth
    )
    assert lowered.status_code == 200
    assert lowered.json()["quantity"] == 1

    seen = _item((await api.get_list(ben, wishlist_id)).json(), item_id)
    assert (seen["quantity"], seen["reserved_quantity"]) == (1, 1)
    assert (await api.reserve(ben, wishlist_id, item_id)).status_code == 409
    shopping = (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()["items"]
    assert [(r["quantity"], r["item"]["quantity"]) for r in shopping] == [(3, 1)]

    await api.gateway.delete(
        f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations/mine", headers=ann.auth
    )
    assert (await api.reserve(ben, wishlist_id, item_id)).status_code == 201


async def test_a_revoked_viewer_keeps_reservations_that_stay_hidden_and_counted(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist_id, item_id = await _shared_list(api, owner, ann, ben)
    assert (await api.reserve(ann, wishlist_id, item_id)).status_code == 201
    shares = (
        await api.gateway.get(f"{API}/wishlists/{wishlist_id}/shares", headers=owner.auth)
    ).json()["items"]
    ann_share = next(s for s in shares if s["viewer_id"] == ann.id)
    revoked = await api.gateway.delete(
        f"{API}/wishlists/{wishlist_id}/shares/{ann_share['id']}", headers=owner.auth
    )
    assert revoked.status_code == 204

    assert (await api.get_list(ann, wishlist_id)).status_code == 404
    assert (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()["items"] == []
    assert _item((await api.get_list(ben, wishlist_id)).json(), item_id)["reserved_quantity"] == 1
    assert "reserved_quantity" not in _item(
        (await api.get_list(owner, wishlist_id)).json(), item_id
    )

    # Shared again: the reservation is there as it was.
    await api.make_viewer(owner, wishlist_id, ann)
    assert _item((await api.get_list(ann, wishlist_id)).json(), item_id)["reserved_by_me"] is True


async def test_deleting_an_item_removes_it_from_the_reservers_list(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist_id, item_id = await _shared_list(api, owner, ann)
    assert (await api.reserve(ann, wishlist_id, item_id)).status_code == 201
    deleted = await api.gateway.delete(
        f"{API}/wishlists/{wishlist_id}/items/{item_id}", headers=owner.auth
    )
    assert deleted.status_code == 204
    assert (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()["items"] == []
    assert (await api.reserve(ann, wishlist_id, item_id)).status_code == 404
