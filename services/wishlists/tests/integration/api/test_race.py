"""Viewers racing for the last units through the gateway: never oversold, never a 5xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api, User

pytestmark = pytest.mark.system

RACERS = 12


async def _race(
    api: Api, racers: list[User], wishlist_id: str, item_id: str, quantity: int
) -> Counter[int]:
    responses = await asyncio.gather(
        *(api.reserve(viewer, wishlist_id, item_id, quantity) for viewer in racers)
    )
    for response in responses:
        if response.status_code == 409:
            assert response.json()["type"] == "/problems/not-enough-left"
    return Counter(r.status_code for r in responses)


async def test_twelve_viewers_racing_for_one_unit_one_wins(api: Api) -> None:
    owner = await api.user("Olga")
    racers = await api.users(*(f"Racer {n}" for n in range(RACERS)))
    wishlist = await api.create_list(owner)
    last = await api.add_item(owner, wishlist["id"], title="The last one")
    few = await api.add_item(owner, wishlist["id"], title="A few", quantity=5)
    pairs = await api.add_item(owner, wishlist["id"], title="Pairs", quantity=5)
    await asyncio.gather(*(api.make_viewer(owner, wishlist["id"], r) for r in racers))

    assert await _race(api, racers, wishlist["id"], last["id"], 1) == {201: 1, 409: RACERS - 1}
    assert await _race(api, racers, wishlist["id"], few["id"], 1) == {201: 5, 409: RACERS - 5}
    assert await _race(api, racers, wishlist["id"], pairs["id"], 2) == {201: 2, 409: RACERS - 2}

    seen = {i["id"]: i for i in (await api.get_list(racers[0], wishlist["id"])).json()["items"]}
    assert [seen[i]["reserved_quantity"] for i in (last["id"], few["id"], pairs["id"])] == [1, 5, 4]
