"""Importing lists through the gateway: a data export, one list in JSON, items in CSV.

Every value is checked as creating it by hand checks it, errors name the
list index or CSV row and the field, and an import is all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, Platform, User

pytestmark = pytest.mark.system

API = "/api/v1"
IMPORT = f"{API}/wishlists/import"
EXPORT = "/api/v1/me/export"
CONTENT = ("title", "url", "price", "currency", "image_url", "quantity", "priority", "notes")


@pytest.fixture
async def service(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Wishlists itself, for its part of an export (the gateway's needs every service)."""
    async with httpx.AsyncClient(base_url=platform.stack.url("wishlists"), timeout=15) as http:
        yield http


async def post_json(api: Api, user: User, body: Any) -> httpx.Response:
    return await api.gateway.post(IMPORT, json=body, headers=user.auth)


async def post_csv(api: Api, user: User, text: str | bytes, **params: str) -> httpx.Response:
    return await api.gateway.post(
        IMPORT,
        content=text.encode() if isinstance(text, str) else text,
        params=params,
        headers={**user.auth, "Content-Type": "text/csv; charset=utf-8"},
    )


async def own_lists(api: Api, user: User) -> list[dict[str, Any]]:
    response = await api.gateway.get(f"{API}/wishlists?limit=200", headers=user.auth)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def content(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in CONTENT}


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_one_list_in_json_is_created_with_its_items_in_order(api: Api) -> None:
    olga = await api.user("Olga")
    body = {
        "title": " Birthday ",
        "description": "Turning 40",
        "occasion_date": "2027-03-01",
        "items": [
            {"title": "Kite"},
            {"title": "Book", "url": "https://example.com/b", "price": "12.50", "currency": "eur"},
            {"title": "Socks", "quantity": 3, "priority": 5, "notes": "wool"},
        ],
    }

    response = await post_json(api, olga, body)

    assert response.status_code == 201, response.text
    (created,) = response.json()["wishlists"]
    assert created == (await api.get_list(olga, created["id"])).json()
    assert created["title"] == "Birthday"
    assert created["owner_id"] == olga.id
    assert (created["description"], created["occasion_date"]) == ("Turning 40", "2027-03-01")
    assert [content(i) for i in created["items"]] == [
        {
            "title": "Kite",
            "url": None,
            "price": None,
            "currency": None,
            "image_url": None,
            "quantity": 1,
            "priority": 3,
            "notes": None,
        },
        {
            "title": "Book",
            "url": "https://example.com/b",
            "price": "12.50",
            "currency": "EUR",
            "image_url": None,
            "quantity": 1,
            "priority": 3,
            "notes": None,
        },
        {
            "title": "Socks",
            "url": None,
            "price": None,
            "currency": None,
            "image_url": None,
            "quantity": 3,
            "priority": 5,
            "notes": "wool",
        },
    ]


async def test_a_whole_export_recreates_every_own_list_and_nothing_else(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga, vera, nina = await api.users("Olga", "Vera", "Nina")
    birthday = await api.create_list(olga, title="Birthday", occasion_date="2027-03-01")
    for n in range(3):
        await api.add_item(
            olga, birthday["id"], title=f"Thing {n}", price=f"{n}.99", currency="USD"
        )
    await api.create_list(olga, title="Empty", description="nothing yet")
    await api.make_viewer(olga, birthday["id"], vera)
    ninas = await api.create_list(nina, title="Nina's")
    await api.add_item(nina, ninas["id"], title="Not Olga's")
    await api.make_viewer(nina, ninas["id"], olga)
    part = (await service.get(EXPORT, headers=olga.auth)).json()
    document = {
        "format": "wishlist-platform-export",
        "version": 1,
        "exported_at": "2026-11-30T12:00:00Z",
        "account": {"id": olga.id, "email": olga.email},
        "notifications": [],
        **part,
    }
    before = await own_lists(api, olga)

    response = await post_json(api, olga, document)

    assert response.status_code == 201, response.text
    created = response.json()["wishlists"]
    assert [w["title"] for w in created] == ["Birthday", "Empty"]
    for new, old in zip(created, part["wishlists"], strict=True):
        assert new["id"] != old["id"]
        assert new["owner_id"] == olga.id
        for field in ("title", "description", "occasion_date"):
            assert new[field] == old[field]
        assert [content(i) for i in new["items"]] == [content(i) for i in old["items"]]
        assert {i["id"] for i in new["items"]}.isdisjoint(i["id"] for i in old["items"])
        shares = await api.gateway.get(f"{API}/wishlists/{new['id']}/shares", headers=olga.auth)
        assert shares.json()["items"] == []
    # Only Olga's two lists are new; Nina's shared list stays Nina's alone.
    assert len(await own_lists(api, olga)) == len(before) + 2
    assert len(await own_lists(api, nina)) == 1


async def test_csv_rows_become_items_of_a_new_list(api: Api) -> None:
    olga = await api.user("Olga")
    text = (
        "\ufeffTitle,URL,Price,Currency,Quantity,Priority,Notes\r\n"
        '"Socks, wool",https://example.com/socks,12.50,eur,2,5,"size 42, grey"\r\n'
        "Kite,,,,,,\r\n"
        "\r\n"
        '"Book ""Dune""",,9,USD,, ,"two\nlines"\r\n'
    )

    response = await post_csv(api, olga, text, title="From a spreadsheet")

    assert response.status_code == 201, response.text
    (created,) = response.json()["wishlists"]
    assert created["title"] == "From a spreadsheet"
    assert created == (await api.get_list(olga, created["id"])).json()
    assert [content(i) for i in created["items"]] == [
        {
            "title": "Socks, wool",
            "url": "https://example.com/socks",
            "price": "12.50",
            "currency": "EUR",
            "image_url": None,
            "quantity": 2,
            "priority": 5,
            "notes": "size 42, grey",
        },
        {
            "title": "Kite",
            "url": None,
            "price": None,
            "currency": None,
            "image_url": None,
            "quantity": 1,
            "priority": 3,
            "notes": None,
        },
        {
            "title": 'Book "Dune"',
            "url": None,
            "price": "9",
            "currency": "USD",
            "image_url": None,
            "quantity": 1,
            "priority": 3,
            "notes": "two\nlines",
        },
    ]


async def test_csv_errors_name_the_row_and_the_field(api: Api) -> None:
    olga = await api.user("Olga")
    text = (
        "title,price,currency,quantity\n"
        "Fine,1.00,EUR,1\n"
        "Cheap,-1,EUR,1\n"
        ",2.00,EUR,x\n"
        "No money,3.5,,1\n"
    )

    response = await post_csv(api, olga, text, title="Bad")

    assert set(errors_of(response)) == {
        "row 3.price",
        "row 4.title",
        "row 4.quantity",
        "row 5.currency",
    }
    assert "row 3.price" in response.json()["detail"]
    assert await own_lists(api, olga) == []


async def test_csv_header_problems_are_named(api: Api) -> None:
    olga = await api.user("Olga")

    unknown = await post_csv(api, olga, "Title,Colour,size\nSocks,red,42\n", title="x")
    assert "colour, size" in errors_of(unknown)["header"]
    no_title = await post_csv(api, olga, "url,price\nhttps://example.com,1\n", title="x")
    assert "title" in errors_of(no_title)["header"]
    empty = await post_csv(api, olga, "", title="x")
    assert "header" in errors_of(empty)["body"]
    wide = await post_csv(api, olga, "title\nSocks,extra\n", title="x")
    assert "row 2" in errors_of(wide)
    no_list_title = await post_csv(api, olga, "title\nSocks\n")
    assert "query.title" in errors_of(no_list_title)
    not_utf8 = await post_csv(api, olga, "title\nK\xf6nig\n".encode("latin-1"), title="x")
    assert "body" in errors_of(not_utf8)
    assert await own_lists(api, olga) == []


async def test_json_errors_name_the_list_index_and_the_field(api: Api) -> None:
    olga = await api.user("Olga")

    one = await post_json(
        api, olga, {"title": "A", "items": [{"title": "ok"}, {"title": "x", "quantity": 100}]}
    )
    assert set(errors_of(one)) == {"body.items.1.quantity"}
    typo = await post_json(api, olga, {"title": "A", "items": [{"title": "x", "prize": "1"}]})
    assert set(errors_of(typo)) == {"body.items.0.prize"}
    document = {
        "format": "wishlist-platform-export",
        "version": 1,
        "wishlists": [
            {"title": "Fine", "items": [{"title": "ok"}]},
            {"title": "", "items": [{"title": "x", "url": "javascript:alert(1)"}]},
            {"title": "Priced", "items": [{"title": "x", "price": "1.234", "currency": "EUR"}]},
        ],
    }
    assert set(errors_of(await post_json(api, olga, document))) == {
        "body.wishlists.1.title",
        "body.wishlists.1.items.0.url",
        "body.wishlists.2.items.0.price",
    }
    other_version = await post_json(api, olga, document | {"version": 2})
    assert set(errors_of(other_version)) == {"body.version"}
    garbage = await api.gateway.post(
        IMPORT, content=b"{not json", headers={**olga.auth, "Content-Type": "application/json"}
    )
    assert set(errors_of(garbage)) == {"body"}
    assert set(errors_of(await post_json(api, olga, [1, 2]))) == {"body"}
    # The first list was fine, and still nothing was created.
    assert await own_lists(api, olga) == []


async def test_one_bad_row_creates_nothing_at_all(api: Api) -> None:
    olga = await api.user("Olga")
    good = "".join(f"Item {n},{n}.00,EUR\n" for n in range(50))

    response = await post_csv(
        api, olga, "title,price,currency\n" + good + "Bad,1.00,XXX\n", title="L"
    )

    assert set(errors_of(response)) == {"row 52.currency"}
    assert await own_lists(api, olga) == []


async def test_limits_hold_as_for_lists_made_by_hand(api: Api) -> None:
    olga = await api.user("Olga")
    rows = "title\n" + "".join(f"Item {n}\n" for n in range(501))

    too_many_items = await post_csv(api, olga, rows, title="Long")

    assert too_many_items.status_code == 409, too_many_items.text
    assert "500 items" in too_many_items.json()["detail"]
    await api.create_list(olga, title="Existing")
    document = {
        "format": "wishlist-platform-export",
        "version": 1,
        "wishlists": [{"title": f"L{n}"} for n in range(1000)],
    }
    too_many_lists = await post_json(api, olga, document)
    assert too_many_lists.status_code == 409, too_many_lists.text
    assert "1000 wishlists" in too_many_lists.json()["detail"]
    assert [w["title"] for w in await own_lists(api, olga)] == ["Existing"]


async def test_a_body_too_large_or_of_another_type_is_refused(
    api: Api, service: httpx.AsyncClient
) -> None:
    olga = await api.user("Olga")
    huge = "title\n" + "x" * (1024 * 1024) + "\n"

    # Refused by wishlists itself, not only by the gateway in front of it.
    response = await service.post(
        IMPORT,
        content=huge.encode(),
        params={"title": "Huge"},
        headers={**olga.auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    plain = await api.gateway.post(
        IMPORT, content=b"title\nSocks\n", headers={**olga.auth, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    latin = await api.gateway.post(
        IMPORT,
        content=b"title\nSocks\n",
        params={"title": "x"},
        headers={**olga.auth, "Content-Type": "text/csv; charset=latin-1"},
    )
    assert latin.status_code == 415
    assert await own_lists(api, olga) == []


async def test_an_import_needs_a_valid_token(api: Api) -> None:
    response = await api.gateway.post(IMPORT, json={"title": "x"})
    assert response.status_code == 401


async def test_each_imported_item_is_announced_like_one_added_by_hand(
    api: Api, bus: EventLog
) -> None:
    olga = await api.user("Olga")
    response = await post_json(api, olga, {"title": "L", "items": [{"title": "a"}, {"title": "b"}]})
    assert response.status_code == 201
    (created,) = response.json()["wishlists"]

    def announced() -> list[Any]:
        events = bus.of("wishlists.item_added.v1", lambda p: p["wishlist"]["id"] == created["id"])
        assert len(events) == 2
        return events

    events = await eventually(announced)
    assert sorted(e.payload["item"]["id"] for e in events) == sorted(
        i["id"] for i in created["items"]
    )
    # A list made a moment ago has no viewers to tell.
    assert all(e.payload["recipient_ids"] == [] for e in events)


async def test_text_the_database_cannot_hold_is_refused_as_by_hand(api: Api) -> None:
    olga = await api.user("Olga")

    by_hand = await api.gateway.post(
        f"{API}/wishlists", json={"title": "a\x00b"}, headers=olga.auth
    )
    imported = await post_json(
        api, olga, {"title": "L", "items": [{"notes": "\x00", "title": "x"}]}
    )
    in_csv = await post_csv(api, olga, "title\nSo\x00cks\n", title="L")

    assert set(errors_of(by_hand)) == {"body.title"}
    assert set(errors_of(imported)) == {"body.items.0.notes"}
    assert set(errors_of(in_csv)) == {"row 2.title"}
    assert await own_lists(api, olga) == []
