"""Items of a list through the gateway: ``/api/v1/wishlists/{id}/items``, and their validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from wishlist_shared.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from conftest import Api

pytestmark = pytest.mark.system

WISHLISTS = "/api/v1/wishlists"
ITEM_FIELDS = {
    "id",
    "title",
    "url",
    "price",
    "currency",
    "image_url",
    "quantity",
    "priority",
    "notes",
    "created_at",
    "updated_at",
    "suggested_by",
    "received_at",
}


async def test_owner_adds_edits_and_deletes_items(api: Api) -> None:
    owner = await api.user()
    wishlist = await api.create_list(owner)
    item = await api.add_item(
        owner,
        wishlist["id"],
        title="Headphones",
        url="https://shop.example/hp?id=1",
        price="149.90",
        currency="eur",
        image_url="http://img.example/hp.png",
        notes="black",
    )
    assert set(item) == ITEM_FIELDS
    assert item["price"] == "149.90"
    assert item["currency"] == "EUR"
    assert (item["quantity"], item["priority"]) == (1, 3)

    minimal = await api.add_item(owner, wishlist["id"], title="Socks")
    assert (minimal["url"], minimal["price"], minimal["currency"]) == (None, None, None)

    path = f"{WISHLISTS}/{wishlist['id']}/items/{item['id']}"
    patched = await api.gateway.patch(
        path, json={"quantity": 2, "price": None, "notes": None}, headers=owner.auth
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["quantity"], changed["price"], changed["notes"]) == (2, None, None)
    assert changed["currency"] == "EUR"
    assert changed["title"] == "Headphones"

    listed = (await api.get_list(owner, wishlist["id"])).json()["items"]
    assert [i["id"] for i in listed] == [item["id"], minimal["id"]]
    assert listed[0] == changed

    assert (await api.gateway.delete(path, headers=owner.auth)).status_code == 204
    assert (await api.gateway.delete(path, headers=owner.auth)).status_code == 404
    listed = (await api.get_list(owner, wishlist["id"])).json()["items"]
    assert [i["id"] for i in listed] == [minimal["id"]]


async def test_an_item_of_another_list_is_not_found_under_this_one(api: Api) -> None:
    owner = await api.user()
    first, second = await api.create_list(owner), await api.create_list(owner)
    item = await api.add_item(owner, first["id"])
    path = f"{WISHLISTS}/{second['id']}/items/{item['id']}"
    assert (
        await api.gateway.patch(path, json={"title": "x"}, headers=owner.auth)
    ).status_code == 404
    assert (await api.gateway.delete(path, headers=owner.auth)).status_code == 404


BAD_ITEMS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"body.title"}),
    ({"title": "x" * 201}, {"body.title"}),
    ({"title": "ok", "url": "javascript:alert(1)"}, {"body.url"}),
    ({"title": "ok", "url": "ftp://files.example/x"}, {"body.url"}),
    ({"title": "ok", "url": "https://"}, {"body.url"}),
    ({"title": "ok", "url": "/relative/path"}, {"body.url"}),
    ({"title": "ok", "image_url": "data:image/png;base64,AAAA"}, {"body.image_url"}),
    ({"title": "ok", "price": "-1.00", "currency": "EUR"}, {"body.price"}),
    ({"title": "ok", "price": "1,00", "currency": "EUR"}, {"body.price"}),
    ({"title": "ok", "price": "1e3", "currency": "EUR"}, {"body.price"}),
    ({"title": "ok", "price": 19.99, "currency": "EUR"}, {"body.price"}),
    ({"title": "ok", "price": "10.00"}, {"body.currency"}),
    ({"title": "ok", "price": "10.5", "currency": "JPY"}, {"body.price"}),
    ({"title": "ok", "price": "1.00", "currency": "EURO"}, {"body.currency"}),
    ({"title": "ok", "price": "1.00", "currency": "XAU"}, {"body.currency"}),
    ({"title": "ok", "quantity": 0}, {"body.quantity"}),
    ({"title": "ok", "quantity": 100}, {"body.quantity"}),
    ({"title": "ok", "quantity": True}, {"body.quantity"}),
    ({"title": "ok", "priority": 6}, {"body.priority"}),
    ({"title": "ok", "notes": "n" * 2001}, {"body.notes"}),
    ({"title": "ok", "reserved_quantity": 1}, {"body.reserved_quantity"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_ITEMS)
async def test_invalid_items_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], fields: set[str]
) -> None:
    owner = await api.user()
    wishlist = await api.create_list(owner)
    response = await api.gateway.post(
        f"{WISHLISTS}/{wishlist['id']}/items", json=body, headers=owner.auth
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert (await api.get_list(owner, wishlist["id"])).json()["items"] == []


async def test_an_edit_that_breaks_a_rule_across_fields_changes_nothing(api: Api) -> None:
    owner = await api.user()
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"], price="1000", currency="JPY")
    path = f"{WISHLISTS}/{wishlist['id']}/items/{item['id']}"
    for body, field in (
        ({"currency": None}, "body.currency"),
        ({"price": "12.50"}, "body.price"),
        ({"title": None}, "body.title"),
        ({"quantity": None}, "body.quantity"),
    ):
        response = await api.gateway.patch(path, json=body, headers=owner.auth)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await api.get_list(owner, wishlist["id"])).json()["items"] == [item]
    fine = await api.gateway.patch(
        path, json={"price": "12.50", "currency": "USD"}, headers=owner.auth
    )
    assert fine.status_code == 200
    assert (fine.json()["price"], fine.json()["currency"]) == ("12.50", "USD")
