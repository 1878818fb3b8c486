"""A reveal published as v2, in pages of recipients, and one still published as v1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.events import ReceivedItem, WishlistRevealed, WishlistRevealedV2

if TYPE_CHECKING:
    from conftest import Platform, User

pytestmark = pytest.mark.system

REVEALED_AT = datetime(2026, 12, 26, 9, 0, tzinfo=UTC)


async def test_each_page_of_a_reveal_tells_its_own_viewers_once(platform: Platform) -> None:
    owner, alice, bob, cid = await platform.users("Olga", "Alice", "Bob", "Cid")
    ref = platform.wishlist_ref(owner, "Christmas")
    lamp = platform.item_snapshot("Lamp")

    def page(*recipients: User) -> WishlistRevealedV2:
        return WishlistRevealedV2(
            wishlist=ref,
            revealed_at=REVEALED_AT,
            received_count=2,
            received_sample=(ReceivedItem(id=lamp.id, title="Lamp"),),
            recipient_ids=tuple(r.id for r in recipients),
        )

    first = await platform.bus.send(page(alice, bob, owner))
    second = await platform.bus.send(page(cid))
    for viewer in (alice, bob, cid):
        (told,) = await platform.wait_for(viewer, 1)
        assert told["kind"] == "wishlist_revealed"
        assert told["data"]["wishlist"]["title"] == "Christmas"
        assert told["data"]["revealed_at"] == "2026-12-26T09:00:00+00:00"
        assert told["data"]["received_count"] == 2
        assert told["data"]["received_titles"] == ["Lamp"]
    assert sorted(await platform.rows([first.id, second.id])) == sorted(
        [(first.id, alice.id), (first.id, bob.id), (second.id, cid.id)]
    )
    assert (await platform.notifications(owner))["items"] == []

    # A reveal published before the upgrade is still told.
    dora = (await platform.users("Dora"))[0]
    await platform.bus.send(
        WishlistRevealed(
            wishlist=ref, revealed_at=REVEALED_AT, received_items=(lamp,), recipient_ids=(dora.id,)
        )
    )
    (told,) = await platform.wait_for(dora, 1)
    assert (told["kind"], told["data"]["received_titles"]) == ("wishlist_revealed", ["Lamp"])
