"""Keyset pagination of every list endpoint: limits, opaque cursors, stable under inserts."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api, User

pytestmark = pytest.mark.system

API = "/api/v1"


async def _walk(api: Api, user: User, path: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await api.gateway.get(path, params=params, headers=user.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append([entry["id"] for entry in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_own_lists_page_through_and_stay_stable_when_lists_are_added(api: Api) -> None:
    owner = await api.user()
    created = [(await api.create_list(owner, title=f"L{n}"))["id"] for n in range(7)]
    newest_first = created[::-1]
    assert await _walk(api, owner, f"{API}/wishlists", 3) == [
        newest_first[0:3],
        newest_first[3:6],
        newest_first[6:7],
    ]

    first = (
        await api.gateway.get(f"{API}/wishlists", params={"limit": 3}, headers=owner.auth)
    ).json()
    added = [(await api.create_list(owner, title=f"New{n}"))["id"] for n in range(2)]
    rest = await api.gateway.get(
        f"{API}/wishlists", params={"limit": 10, "cursor": first["next_cursor"]}, headers=owner.auth
    )
    seen = [w["id"] for w in first["items"]] + [w["id"] for w in rest.json()["items"]]
    assert seen == newest_first
    assert not set(added) & set(seen)
    default = (await api.gateway.get(f"{API}/wishlists", headers=owner.auth)).json()
    assert len(default["items"]) == 9
    assert default["next_cursor"] is None


async def test_shares_shared_lists_and_reservations_page_the_same_way(api: Api) -> None:
    owner, viewer = await api.users("Olga", "Vera")
    wishlist = await api.create_list(owner)
    shares = [
        (await api.share(owner, wishlist["id"], f"p{n}-{wishlist['id'][:8]}@example.com")).json()[
            "id"
        ]
        for n in range(5)
    ]
    assert await _walk(api, owner, f"{API}/wishlists/{wishlist['id']}/shares", 2) == [
        shares[::-1][0:2],
        shares[::-1][2:4],
        shares[::-1][4:5],
    ]

    lists = [(await api.create_list(owner, title=f"S{n}"))["id"] for n in range(3)]
    for wishlist_id in lists:
        await api.make_viewer(owner, wishlist_id, viewer)
    assert await _walk(api, viewer, f"{API}/wishlists/shared-with-me", 2) == [
        lists[::-1][0:2],
        lists[::-1][2:3],
    ]

    items = [(await api.add_item(owner, lists[0], title=f"I{n}"))["id"] for n in range(3)]
    reservations = [(await api.reserve(viewer, lists[0], i)).json()["id"] for i in items]
    assert await _walk(api, viewer, f"{API}/reservations", 2) == [
        reservations[::-1][0:2],
        reservations[::-1][2:3],
    ]


def _forged(at: str, ident: str, version: int = 1) -> str:
    raw = json.dumps([version, at, ident]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"cursor": "not a cursor"}, "query.cursor"),
        ({"cursor": _forged("yesterday", "x")}, "query.cursor"),
        ({"cursor": _forged("2026-01-01T00:00:00+00:00", "x")}, "query.cursor"),
        ({"cursor": _forged("2026-01-01T00:00:00", "0" * 32)}, "query.cursor"),
        ({"cursor": _forged("2026-01-01T00:00:00+00:00", "0" * 32, version=2)}, "query.cursor"),
        ({"cursor": "A" * 201}, "query.cursor"),
    ],
)
async def test_bad_page_parameters_are_refused_naming_them(
    api: Api, params: dict[str, Any], field: str
) -> None:
    user = await api.user()
    for path in ("wishlists", "wishlists/shared-with-me", "reservations"):
        response = await api.gateway.get(f"{API}/{path}", params=params, headers=user.auth)
        assert response.status_code == 422, (path, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_limits_up_to_200_are_honoured(api: Api) -> None:
    user = await api.user()
    response = await api.gateway.get(f"{API}/wishlists", params={"limit": 200}, headers=user.auth)
    assert response.status_code == 200
