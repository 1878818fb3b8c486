"""Export and import through the gateway, with every service running as a real process.

The export is gathered by the gateway from auth, wishlists and the notifier;
the import goes to wishlists. What a user does: download everything of
theirs, read it, give it back (the lists come back equal), import a CSV; and
when a service is down, get a 503 to retry rather than half an export.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from live_platform import API, Person, Platform

from wishlist_shared.testing.eventually import eventually

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

EXPORT = f"{API}/me/export"
IMPORT = f"{API}/wishlists/import"
CONTENT = ("title", "url", "price", "currency", "image_url", "quantity", "priority", "notes")


async def export(platform: Platform, who: Person) -> httpx.Response:
    return await platform.http.get(EXPORT, headers=who.headers)


def content(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in CONTENT}


async def test_an_export_holds_everything_of_the_user_and_imports_back_equal(
    platform: Platform,
) -> None:
    olga, vera, nina = [await platform.person(n) for n in ("Olga", "Vera", "Nina")]
    birthday = await platform.ok(
        olga, "POST", "/wishlists", {"title": "Birthday", "occasion_date": "2027-03-01"}
    )
    bid = birthday["id"]
    kite = await platform.ok(olga, "POST", f"/wishlists/{bid}/items", {"title": "Kite"})
    await platform.ok(
        olga,
        "POST",
        f"/wishlists/{bid}/items",
        {"title": "Book", "price": "12.50", "currency": "EUR", "quantity": 2, "notes": "hardback"},
    )
    await platform.share(olga, bid, vera)
    ninas = await platform.ok(nina, "POST", "/wishlists", {"title": "Nina's wedding"})
    plates = await platform.ok(nina, "POST", f"/wishlists/{ninas['id']}/items", {"title": "Plates"})
    await platform.share(nina, ninas["id"], olga)
    await platform.ok(
        olga, "POST", f"/wishlists/{ninas['id']}/items/{plates['id']}/reservations", {}
    )
    # Vera's reservation on Olga's list must not show in Olga's export.
    await platform.ok(vera, "POST", f"/wishlists/{bid}/items/{kite['id']}/reservations", {})

    async def told_of_the_share() -> list[dict[str, Any]]:
        page = await platform.ok(olga, "GET", "/notifications?limit=200")
        assert page["items"], "no notification yet"
        items: list[dict[str, Any]] = page["items"]
        return items

    notifications = await eventually(told_of_the_share, timeout=30)

    response = await export(platform, olga)

    assert response.status_code == 200, response.text
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="wishlists-export-{today}.json"'
    )
    document = response.json()
    assert (document["format"], document["version"]) == ("wishlist-platform-export", 1)
    assert document["account"] == await platform.ok(olga, "GET", "/auth/me")
    (own,) = document["wishlists"]
    assert (own["id"], own["title"], own["occasion_date"]) == (bid, "Birthday", "2027-03-01")
    assert [i["title"] for i in own["items"]] == ["Kite", "Book"]
    assert [(s["email"], s["status"]) for s in own["shares"]] == [(vera.email, "active")]
    assert b"reserved" not in response.content
    assert "Vera" not in response.text
    (reservation,) = document["reservations"]
    assert (reservation["item_id"], reservation["owner_display_name"]) == (plates["id"], "Nina")
    assert [w["id"] for w in document["shared_with_me"]] == [ninas["id"]]
    exported_kinds = [n["kind"] for n in document["notifications"]]
    assert "wishlist_shared" in exported_kinds
    assert {n["id"] for n in notifications} <= {n["id"] for n in document["notifications"]}

    # The file as downloaded goes back in as it is.
    imported = await platform.http.post(
        IMPORT,
        content=response.content,
        headers={**olga.headers, "Content-Type": "application/json"},
    )

    assert imported.status_code == 201, imported.text
    (copy,) = imported.json()["wishlists"]
    assert copy["id"] != bid
    assert (copy["title"], copy["occasion_date"]) == ("Birthday", "2027-03-01")
    assert [content(i) for i in copy["items"]] == [content(i) for i in own["items"]]
    assert await platform.ok(olga, "GET", f"/wishlists/{copy['id']}") == copy
    # Nothing but content came back: no shares, and Nina's list stays hers alone.
    assert (await platform.ok(olga, "GET", f"/wishlists/{copy['id']}/shares"))["items"] == []
    mine = await platform.ok(olga, "GET", "/wishlists")
    assert sorted(w["title"] for w in mine["items"]) == ["Birthday", "Birthday"]


async def test_a_csv_imports_through_the_gateway(platform: Platform) -> None:
    olga = await platform.person("Olga")
    csv = '\ufefftitle,price,currency,quantity\r\n"Socks, wool",12.50,EUR,2\r\nKite,,,\r\n'

    response = await platform.http.post(
        IMPORT,
        content=csv.encode(),
        params={"title": "From a spreadsheet"},
        headers={**olga.headers, "Content-Type": "text/csv"},
    )

    assert response.status_code == 201, response.text
    (created,) = response.json()["wishlists"]
    assert created["title"] == "From a spreadsheet"
    assert [(i["title"], i["price"], i["quantity"]) for i in created["items"]] == [
        ("Socks, wool", "12.50", 2),
        ("Kite", None, 1),
    ]
    bad = await platform.http.post(
        IMPORT,
        content=b"title,price\nSocks,cheap\n",
        params={"title": "x"},
        headers={**olga.headers, "Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["row 2.price"]


@pytest.mark.parametrize("down", ["notifier", "wishlists"])
async def test_a_service_down_is_a_503_to_retry_never_half_an_export(
    platform: Platform, down: str
) -> None:
    olga = await platform.person("Olga")
    await platform.ok(olga, "POST", "/wishlists", {"title": "Birthday"})
    assert (await export(platform, olga)).status_code == 200

    await platform.stack.processes[down].stop()
    response = await export(platform, olga)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert "content-disposition" not in response.headers
    assert olga.email not in response.text
    assert "Birthday" not in response.text

    await platform.stack.start_again(down)
    await platform.stack.ready()

    async def whole_again() -> bool:
        return (await export(platform, olga)).status_code == 200

    await eventually(whole_again, message="the export never came back")


async def test_an_export_needs_a_valid_token(platform: Platform) -> None:
    assert (await platform.http.get(EXPORT)).status_code == 401
    bad = await platform.http.get(EXPORT, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
