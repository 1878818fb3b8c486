"""API4:2023 Unrestricted resource consumption.

Every limit documented in the READMEs, enforced on the running platform:
request body size, page size, text and password lengths, lists per owner,
items and shares per list, sockets per user, and requests (tickets and
sockets included) per user per window. This module runs its own platform
with a small request budget and socket cap, so the limits are reached quickly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from conftest import LaunchPlatform, Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

REQUESTS_PER_MINUTE = 40
SOCKETS_PER_USER = 3
MAX_BODY_BYTES = 1024 * 1024


@pytest.fixture(scope="module")
async def limited(launch_platform: LaunchPlatform) -> AsyncIterator[Platform]:
    gateway = {
        "GATEWAY_RATE_LIMIT_REQUESTS": str(REQUESTS_PER_MINUTE),
        "GATEWAY_WS_MAX_SOCKETS_PER_USER": str(SOCKETS_PER_USER),
    }
    async with launch_platform({"gateway": gateway}) as platform:
        yield platform


async def test_a_body_over_the_limit_is_refused_with_413_and_changes_nothing(
    limited: Platform,
) -> None:
    person = await limited.person("Bea")
    huge = {"title": "big", "description": "x" * MAX_BODY_BYTES}
    response = await limited.call(person, "POST", "/wishlists", huge)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await limited.ok(person, "GET", "/wishlists"))["items"] == []


async def test_pages_are_at_most_200_on_every_collection(limited: Platform) -> None:
    person = await limited.person("Pia")
    wishlist = await limited.ok(person, "POST", "/wishlists", {"title": "Mine"})
    for path in (
        "/wishlists",
        "/wishlists/shared-with-me",
        f"/wishlists/{wishlist['id']}/shares",
        "/reservations",
        "/notifications",
    ):
        too_big = await limited.call(person, "GET", f"{path}?limit=201")
        assert too_big.status_code == 422, (path, too_big.text)
        assert "query.limit" in {e["field"] for e in too_big.json()["errors"]}
        assert (await limited.call(person, "GET", f"{path}?limit=200")).status_code == 200


async def test_texts_and_passwords_are_bounded(limited: Platform) -> None:
    person = await limited.person("Tom")
    # Argon2 never runs on an overlong password: 422 before any hashing.
    long_password = {"email": "long@example.com", "password": "p" * 129, "display_name": "L"}
    refused = await limited.call(
        None, "POST", "/auth/register", long_password, headers={"X-Forwarded-For": person.address}
    )
    assert refused.status_code == 422
    wishlist = await limited.ok(person, "POST", "/wishlists", {"title": "Mine"})
    for path, body in (
        ("/wishlists", {"title": "t" * 201}),
        ("/wishlists", {"title": "t", "description": "d" * 2001}),
        (f"/wishlists/{wishlist['id']}/items", {"title": "t", "notes": "n" * 2001}),
        (
            f"/wishlists/{wishlist['id']}/items",
            {"title": "t", "url": "https://x.test/" + "a" * 2048},
        ),
        (f"/wishlists/{wishlist['id']}/items", {"title": "t", "quantity": 100}),
    ):
        response = await limited.call(person, "POST", path, body)
        assert response.status_code == 422, (path, response.text)


async def test_lists_per_owner_items_and_shares_per_list_are_capped(limited: Platform) -> None:
    owner = await limited.person("Cap")
    wishlist = await limited.ok(owner, "POST", "/wishlists", {"title": "Full"})
    wid = wishlist["id"]
    # Filled to one below each cap behind the API's back; the API adds the last.
    await limited.sql(
        "INSERT INTO wishlists.wishlists (id, owner_id, title)"
        " SELECT gen_random_uuid(), $1, 'seed ' || g FROM generate_series(1, 998) g",
        owner.id,
    )
    await limited.sql(
        "INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity, priority)"
        " SELECT gen_random_uuid(), $1, $2, 'seed ' || g, 1, 3 FROM generate_series(1, 499) g",
        wid,
        owner.id,
    )
    await limited.sql(
        "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, email, via)"
        " SELECT gen_random_uuid(), $1, $2, 'seed-' || g || '@example.com', 'email'"
        " FROM generate_series(1, 499) g",
        wid,
        owner.id,
    )
    for path, body, what in (
        ("/wishlists", {"title": "the 1000th"}, "wishlists per owner"),
        (f"/wishlists/{wid}/items", {"title": "the 500th"}, "items per wishlist"),
        (f"/wishlists/{wid}/shares", {"email": "the-500th@example.com"}, "shares per wishlist"),
    ):
        last = await limited.call(owner, "POST", path, body)
        assert last.status_code == 201, (what, last.text)
        over = await limited.call(owner, "POST", path, body | _one_more(body))
        assert over.status_code == 409, (what, over.text)
        assert over.json()["type"].endswith("limit-reached"), over.text
    counts = await limited.sql(
        "SELECT (SELECT count(*) FROM wishlists.wishlists WHERE owner_id = $1) AS lists,"
        " (SELECT count(*) FROM wishlists.items WHERE wishlist_id = $2) AS items,"
        " (SELECT count(*) FROM wishlists.shares WHERE wishlist_id = $2) AS shares",
        owner.id,
        wid,
    )
    assert dict(counts[0]) == {"lists": 1000, "items": 500, "shares": 500}


async def test_a_user_holds_a_bounded_number_of_sockets(limited: Platform) -> None:
    person = await limited.person("Sol")
    async with (
        limited.socket(person.headers) as first,
        limited.socket(person.headers),
        limited.socket(person.headers),
    ):
        async with limited.socket(person.headers) as one_too_many:
            code = await _close_code(one_too_many)
        assert code == 4429
        await first.close()
        # A freed place can be taken again.
        async with limited.socket(person.headers) as again:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(again.recv(), 0.5)
    # Someone else is not affected by Sol's sockets.
    other = await limited.person("Ola")
    async with limited.socket(other.headers) as theirs:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(theirs.recv(), 0.5)


async def test_tickets_and_sockets_spend_the_users_request_budget(limited: Platform) -> None:
    person = await limited.person("Tix")
    issued = 0
    response = None
    for _ in range(REQUESTS_PER_MINUTE + 1):
        response = await limited.call(person, "POST", "/realtime/ticket")
        if response.status_code != 200:
            break
        issued += 1
    assert response is not None
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    assert issued <= REQUESTS_PER_MINUTE
    async with limited.socket(person.headers) as ws:
        assert await _close_code(ws) == 4429


def _one_more(body: dict[str, str]) -> dict[str, str]:
    return {"email": "one-more@example.com"} if "email" in body else {"title": "one more"}


async def _close_code(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_an_import_refuses_deep_nesting_and_too_many_items_before_any_work(
    platform: Platform,
) -> None:
    owner = await platform.person("Lena")
    deep = await platform.call(
        owner,
        "POST",
        "/wishlists/import",
        content=b"[" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    # Was a 500: the parser ran out of stack.
    assert deep.status_code == 422, deep.text
    assert deep.json()["errors"] == [{"field": "body", "message": "nests deeper than 16 levels"}]

    # 5 lists of 401 items: each under the 500 a list may hold, 2,005 in all.
    lists = [
        {"title": f"List {n}", "items": [{"title": f"Thing {k}"} for k in range(401)]}
        for n in range(5)
    ]
    export = {"format": "wishlist-platform-export", "version": 1, "wishlists": lists}
    many = await platform.call(owner, "POST", "/wishlists/import", export)
    assert many.status_code == 409, many.text
    assert "2000 items per import" in many.json()["detail"]
    assert (await platform.ok(owner, "GET", "/wishlists"))["items"] == []
