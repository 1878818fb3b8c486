"""Wishlists' and auth's events, consumed: who is told, exactly once, and erasure."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.events import (
    ItemAdded,
    ItemDeleted,
    ItemReserved,
    UserDeleted,
    WishlistShared,
)
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = pytest.mark.system


async def test_an_added_item_is_told_once_to_every_viewer_and_never_to_the_owner(
    platform: Platform,
) -> None:
    owner, alice, bob = await platform.users("Olga", "Alice", "Bob")
    ref, item = platform.wishlist_ref(owner, "Winter"), platform.item_snapshot("Scarf")
    event = await platform.bus.send(
        ItemAdded(wishlist=ref, item=item, recipient_ids=(alice.id, bob.id))
    )
    for viewer in (alice, bob):
        (told,) = await platform.wait_for(viewer, 1)
        assert told["kind"] == "item_added"
        assert told["read"] is False
        assert told["data"]["wishlist"] == {
            "id": str(ref.id),
            "title": "Winter",
            "owner_id": str(owner.id),
            "owner_display_name": "Olga",
            "occasion_date": None,
        }
        assert told["data"]["item"]["id"] == str(item.id)
        assert told["data"]["item"]["title"] == "Scarf"
    assert sorted(await platform.rows([event.id])) == sorted(
        [(event.id, alice.id), (event.id, bob.id)]
    )
    assert (await platform.notifications(owner))["items"] == []


async def test_owner_never_hears_of_a_reservation_even_when_named(platform: Platform) -> None:
    owner, carol = await platform.users("Olga", "Carol")
    event = await platform.bus.send(
        ItemReserved(
            wishlist=platform.wishlist_ref(owner),
            item=platform.item_snapshot(),
            reserved_quantity=1,
            recipient_ids=(owner.id, carol.id),
        )
    )
    (told,) = await platform.wait_for(carol, 1)
    assert told["kind"] == "item_reserved"
    assert told["data"]["reserved_quantity"] == 1
    # Carol's notification and the owner's would have committed together.
    assert await platform.rows([event.id]) == [(event.id, carol.id)]


async def test_a_new_viewer_is_told_the_list_was_shared_with_them(platform: Platform) -> None:
    owner, viewer = await platform.users("Olga", "Vera")
    ref = platform.wishlist_ref(owner, "Wedding")
    share_id = uuid.uuid4()
    await platform.bus.send(
        WishlistShared(
            wishlist=ref,
            share_id=share_id,
            viewer_id=viewer.id,
            via="link",
            recipient_ids=(viewer.id,),
        )
    )
    (told,) = await platform.wait_for(viewer, 1)
    assert told["kind"] == "wishlist_shared"
    assert told["data"]["share_id"] == str(share_id)
    assert told["data"]["via"] == "link"
    assert told["data"]["wishlist"]["title"] == "Wedding"


async def test_a_deleted_item_is_told_to_its_reservers_only(platform: Platform) -> None:
    owner, reserver, onlooker = await platform.users("Olga", "Rita", "Otto")
    item = platform.item_snapshot("Lamp")
    event = await platform.bus.send(
        ItemDeleted(
            wishlist=platform.wishlist_ref(owner),
            item=item,
            viewer_ids=(reserver.id, onlooker.id),
            recipient_ids=(reserver.id,),
        )
    )
    (told,) = await platform.wait_for(reserver, 1)
    assert told["kind"] == "reserved_item_removed"
    assert told["data"]["item"]["title"] == "Lamp"
    assert await platform.rows([event.id]) == [(event.id, reserver.id)]


async def test_redelivery_of_the_same_event_changes_nothing(platform: Platform) -> None:
    owner, alice = await platform.users("Olga", "Alice")
    event = await platform.bus.send(
        ItemAdded(
            wishlist=platform.wishlist_ref(owner),
            item=platform.item_snapshot(),
            recipient_ids=(alice.id,),
        )
    )
    (first,) = await platform.wait_for(alice, 1)
    await platform.bus.publish(event)
    await platform.bus.publish(event)

    def both_skipped() -> bool:
        logs = platform.stack.processes["notifier"].logs()
        return logs.count(f"event {event.id} (wishlists.item_added.v1) already handled") == 2

    await eventually(both_skipped, timeout=30, message="the redeliveries were never handled")
    assert [n["id"] for n in await platform.wait_for(alice, 1)] == [first["id"]]
    assert await platform.rows([event.id]) == [(event.id, alice.id)]
    assert await platform.unread_count(alice) == 1


async def test_user_deleted_removes_their_notifications_and_their_name(
    platform: Platform,
) -> None:
    owner, alice, bob = await platform.users("Olga", "Alice", "Bob")
    ref = platform.wishlist_ref(owner)
    await platform.bus.send(
        ItemAdded(wishlist=ref, item=platform.item_snapshot(), recipient_ids=(alice.id, bob.id))
    )
    await platform.wait_for(alice, 1)
    await platform.wait_for(bob, 1)
    # Alice loses hers; Bob keeps his, but no longer sees the owner's name.
    await platform.bus.send(UserDeleted(user_id=alice.id))
    await platform.bus.send(UserDeleted(user_id=owner.id))

    async def erased() -> bool:
        assert await platform.rows_of(alice.id) == 0
        (kept,) = (await platform.notifications(bob))["items"]
        assert kept["data"]["wishlist"]["owner_display_name"] is None
        assert kept["data"]["wishlist"]["title"] == ref.title
        return True

    await eventually(erased, timeout=30)

    # An event still on its way after the deletions: it tells no deleted
    # user and names no deleted owner.
    late = await platform.bus.send(
        ItemAdded(
            wishlist=ref, item=platform.item_snapshot("Late"), recipient_ids=(alice.id, bob.id)
        )
    )
    items = await platform.wait_for(bob, 2)
    assert items[0]["data"]["item"]["title"] == "Late"
    assert items[0]["data"]["wishlist"]["owner_display_name"] is None
    assert Counter(r for _, r in await platform.rows([late.id])) == {bob.id: 1}
