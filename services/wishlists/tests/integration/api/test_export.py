"""Wishlists' part of a data export: own lists, own reservations, lists shared with the caller.

Asked of the wishlists service directly (the gateway's export gathers the
parts of every service; see tests/system/test_export_import.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Api, Platform, User

pytestmark = pytest.mark.system

API = "/api/v1"
EXPORT = "/api/v1/me/export"


@pytest.fixture
async def service(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.stack.url("wishlists"), timeout=15) as http:
        yield http


async def exported(service: httpx.AsyncClient, user: User) -> dict[str, Any]:
    response = await service.get(EXPORT, headers=user.auth)
    assert response.status_code == 200, response.text
    part: dict[str, Any] = response.json()
    return part


async def test_the_export_holds_own_lists_with_items_and_shares(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga, vera = await api.users("Olga", "Vera")
    first = await api.create_list(
        olga, title="Birthday", description="Turning 40", occasion_date="2027-03-01"
    )
    second = await api.create_list(olga, title="Garden")
    kite = await api.add_item(olga, first["id"], title="Kite", quantity=2, priority=5)
    book = await api.add_item(
        olga,
        first["id"],
        title="Book",
        url="https://example.com/book",
        price="12.50",
        currency="EUR",
        notes="paperback",
    )
    await api.make_viewer(olga, first["id"], vera)
    pending = f"later-{uuid.uuid4().hex[:8]}@example.com"
    assert (await api.share(olga, first["id"], pending)).status_code == 201

    part = await exported(service, olga)

    assert set(part) == {"wishlists", "reservations", "shared_with_me"}
    lists = part["wishlists"]
    assert [w["title"] for w in lists] == ["Birthday", "Garden"]
    birthday = lists[0]
    shown = await api.get_list(olga, first["id"])
    assert {k: birthday[k] for k in birthday if k not in ("items", "shares")} == {
        k: shown.json()[k]
        for k in ("id", "title", "description", "occasion_date", "created_at", "updated_at")
    }
    # Each item exactly as the owner's own page shows it.
    assert birthday["items"] == [kite, book] == shown.json()["items"]
    assert [(s["email"], s["via"], s["status"]) for s in birthday["shares"]] == [
        (vera.email, "email", "active"),
        (pending, "email", "pending"),
    ]
    assert set(birthday["shares"][0]) == {"email", "via", "status", "created_at"}
    assert lists[1]["id"] == second["id"]
    assert lists[1]["items"] == lists[1]["shares"] == []
    assert part["reservations"] == part["shared_with_me"] == []


async def test_the_export_holds_own_reservations_and_lists_shared_with_the_caller(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga, vera = await api.users("Olga", "Vera")
    wishlist = await api.create_list(olga, title="Wedding", occasion_date="2027-06-12")
    plates = await api.add_item(olga, wishlist["id"], title="Plates", url="https://example.com/p")
    await api.add_item(olga, wishlist["id"], title="Cups", quantity=6)
    await api.make_viewer(olga, wishlist["id"], vera)
    reserved = await api.reserve(vera, wishlist["id"], plates["id"])
    assert reserved.status_code == 201

    part = await exported(service, vera)

    assert part["wishlists"] == []
    assert part["shared_with_me"] == [
        {
            "id": wishlist["id"],
            "title": "Wedding",
            "owner_display_name": "Olga",
            "occasion_date": "2027-06-12",
        }
    ]
    assert part["reservations"] == [
        {
            "wishlist_id": wishlist["id"],
            "wishlist_title": "Wedding",
            "owner_display_name": "Olga",
            "item_id": plates["id"],
            "item_title": "Plates",
            "item_url": "https://example.com/p",
            "quantity": 1,
            "purchased": False,
            "created_at": reserved.json()["created_at"],
        }
    ]


async def test_the_owners_export_says_nothing_about_reservations_on_their_lists(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(olga)
    lego = await api.add_item(olga, wishlist["id"], title="Lego", quantity=3)
    await api.make_viewer(olga, wishlist["id"], ann)
    await api.make_viewer(olga, wishlist["id"], ben)
    before = (await service.get(EXPORT, headers=olga.auth)).content

    assert (await api.reserve(ann, wishlist["id"], lego["id"], 2)).status_code == 201
    assert (await api.reserve(ben, wishlist["id"], lego["id"], 1)).status_code == 201
    after = await service.get(EXPORT, headers=olga.auth)

    assert after.status_code == 200
    # Byte for byte: not a count, not a name, not a changed timestamp.
    assert after.content == before
    assert b"reserv" not in after.content.replace(b'"reservations":[]', b"")
    assert b"Ann" not in after.content
    assert b"Ben" not in after.content


async def test_nobody_finds_anothers_lists_in_their_export(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga, mallory = await api.users("Olga", "Mallory")
    wishlist = await api.create_list(olga, title="Secret plans")
    await api.add_item(olga, wishlist["id"], title="Telescope")

    response = await service.get(EXPORT, headers=mallory.auth)

    assert response.json() == {"wishlists": [], "reservations": [], "shared_with_me": []}


async def test_the_export_needs_a_valid_token(service: httpx.AsyncClient) -> None:
    assert (await service.get(EXPORT)).status_code == 401
    forged = await service.get(EXPORT, headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401
