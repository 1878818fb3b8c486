"""The surprise rule end to end: nothing the owner can reach tells them about reservations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api, User

pytestmark = pytest.mark.system

API = "/api/v1"


async def _owner_sees(api: Api, owner: User, wishlist_id: str) -> bytes:
    response = await api.get_list(owner, wishlist_id)
    assert response.status_code == 200
    return response.content


async def test_the_owners_view_is_byte_for_byte_the_same_whatever_is_reserved(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    lego = await api.add_item(owner, wid, title="Lego", quantity=2)
    book = await api.add_item(owner, wid, title="Book", price="12.00", currency="EUR")
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)
    before = await _owner_sees(api, owner, wid)
    own_pages_before = (await api.gateway.get(f"{API}/wishlists", headers=owner.auth)).content

    reservation = (await api.reserve(ann, wid, lego["id"], 2)).json()
    assert await _owner_sees(api, owner, wid) == before
    assert (await api.reserve(ben, wid, book["id"])).status_code == 201
    assert await _owner_sees(api, owner, wid) == before
    await api.gateway.patch(
        f"{API}/reservations/{reservation['id']}", json={"purchased": True}, headers=ann.auth
    )
    assert await _owner_sees(api, owner, wid) == before
    await api.gateway.delete(
        f"{API}/wishlists/{wid}/items/{book['id']}/reservations/mine", headers=ben.auth
    )
    assert await _owner_sees(api, owner, wid) == before
    assert (await api.gateway.get(f"{API}/wishlists", headers=owner.auth)).content == (
        own_pages_before
    )
    assert b"reserved" not in before


async def test_the_owners_answers_and_errors_do_not_depend_on_reservations(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    free = await api.add_item(owner, wid, title="Free", quantity=3)
    taken = await api.add_item(owner, wid, title="Taken", quantity=3)
    await api.make_viewer(owner, wid, ann)
    assert (await api.reserve(ann, wid, taken["id"], 3)).status_code == 201

    def strip(body: dict[str, object]) -> dict[str, object]:
        return {
            k: v for k, v in body.items() if k not in ("id", "title", "created_at", "updated_at")
        }

    # Reserving: the same refusal, word for word.
    on_free = await api.reserve(owner, wid, free["id"])
    on_taken = await api.reserve(owner, wid, taken["id"])
    assert on_free.status_code == on_taken.status_code == 403
    assert on_free.json() == on_taken.json()
    mine = f"{API}/wishlists/{wid}/items/{{}}/reservations/mine"
    cancel_free = await api.gateway.delete(mine.format(free["id"]), headers=owner.auth)
    cancel_taken = await api.gateway.delete(mine.format(taken["id"]), headers=owner.auth)
    assert cancel_free.json() == cancel_taken.json()

    # Editing, even lowering below what is reserved: the same answer.
    for body in ({"quantity": 1}, {"title": "Renamed", "priority": 5}):
        edited_free = await api.gateway.patch(
            f"{API}/wishlists/{wid}/items/{free['id']}", json=body, headers=owner.auth
        )
        edited_taken = await api.gateway.patch(
            f"{API}/wishlists/{wid}/items/{taken['id']}", json=body, headers=owner.auth
        )
        assert edited_free.status_code == edited_taken.status_code == 200
        assert strip(edited_free.json()) == strip(edited_taken.json())

    # Deleting: the same empty 204.
    deleted_free = await api.gateway.delete(
        f"{API}/wishlists/{wid}/items/{free['id']}", headers=owner.auth
    )
    deleted_taken = await api.gateway.delete(
        f"{API}/wishlists/{wid}/items/{taken['id']}", headers=owner.auth
    )
    assert (deleted_free.status_code, deleted_free.content) == (204, b"")
    assert (deleted_taken.status_code, deleted_taken.content) == (204, b"")


async def test_the_owner_finds_no_reservation_anywhere(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"])
    await api.make_viewer(owner, wishlist["id"], ann)
    reservation = (await api.reserve(ann, wishlist["id"], item["id"])).json()

    assert (await api.gateway.get(f"{API}/reservations", headers=owner.auth)).json() == {
        "items": [],
        "next_cursor": None,
    }
    probe = await api.gateway.patch(
        f"{API}/reservations/{reservation['id']}", json={"purchased": True}, headers=owner.auth
    )
    assert probe.status_code == 404
    unknown = await api.gateway.patch(
        f"{API}/reservations/{item['id']}", json={"purchased": True}, headers=owner.auth
    )
    assert probe.json() == unknown.json()
    shares = await api.gateway.get(f"{API}/wishlists/{wishlist['id']}/shares", headers=owner.auth)
    assert "reserv" not in shares.text
