"""Wishlists' and auth's events, consumed: who is told, exactly once, and erasure."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from wishlist_shared.events import (
    Envelope,
    GroupMemberAdded,
    GroupRef,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSuggested,
    UserDeleted,
    WishlistRevealed,
    WishlistShared,
    WishlistSharedV2,
)
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform, User

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


def group_of(owner: User, name: str = "Family") -> GroupRef:
    return GroupRef(
        id=uuid.uuid4(), name=name, owner_id=owner.id, owner_display_name=owner.display_name
    )


async def redeliver_twice(platform: Platform, event: Envelope[Any]) -> None:
    """Publishes ``event`` twice more and waits until the notifier skipped both."""
    await platform.bus.publish(event)
    await platform.bus.publish(event)

    def both_skipped() -> bool:
        logs = platform.stack.processes["notifier"].logs()
        return logs.count(f"event {event.id} ({event.type}) already handled") == 2

    await eventually(both_skipped, timeout=30, message="the redeliveries were never handled")


async def test_a_list_shared_through_a_group_is_told_once_with_the_group(
    platform: Platform,
) -> None:
    owner, member = await platform.users("Olga", "Mia")
    ref, group = platform.wishlist_ref(owner, "Wedding"), group_of(owner)
    event = await platform.bus.send(
        WishlistSharedV2(
            wishlist=ref,
            share_id=uuid.uuid4(),
            viewer_id=member.id,
            via="group",
            group=group,
            recipient_ids=(member.id, owner.id),
        )
    )
    (told,) = await platform.wait_for(member, 1)
    assert told["kind"] == "wishlist_shared"
    assert told["data"]["via"] == "group"
    assert told["data"]["group"] == {"id": str(group.id), "name": "Family"}
    assert told["data"]["wishlist"]["title"] == "Wedding"
    await redeliver_twice(platform, event)
    assert await platform.rows([event.id]) == [(event.id, member.id)]
    assert await platform.unread_count(member) == 1


async def test_a_new_group_member_is_told_once_and_the_group_owner_never(
    platform: Platform,
) -> None:
    owner, member = await platform.users("Gus", "Mia")
    group = group_of(owner, "Cousins")
    event = await platform.bus.send(
        GroupMemberAdded(group=group, member_id=uuid.uuid4(), recipient_ids=(member.id, owner.id))
    )
    (told,) = await platform.wait_for(member, 1)
    assert told["kind"] == "added_to_group"
    assert told["data"]["group"] == {
        "id": str(group.id),
        "name": "Cousins",
        "owner_id": str(owner.id),
        "owner_display_name": "Gus",
    }
    await redeliver_twice(platform, event)
    assert await platform.rows([event.id]) == [(event.id, member.id)]

    # The group's owner deleting their account erases their name from it.
    await platform.bus.send(UserDeleted(user_id=owner.id))

    async def unnamed() -> bool:
        (kept,) = (await platform.notifications(member))["items"]
        assert kept["data"]["group"]["owner_display_name"] is None
        assert kept["data"]["group"]["name"] == "Cousins"
        return True

    await eventually(unnamed, timeout=30)


async def test_a_suggestion_is_told_once_to_the_other_viewers_and_never_to_the_owner(
    platform: Platform,
) -> None:
    owner, suggester, viewer = await platform.users("Olga", "Sara", "Vic")
    ref, item = platform.wishlist_ref(owner), platform.item_snapshot("Kite")
    event = await platform.bus.send(
        ItemSuggested(
            wishlist=ref,
            item=item,
            suggested_by_id=suggester.id,
            suggested_by_display_name="Sara",
            # A payload naming the owner and the suggester by mistake tells neither.
            recipient_ids=(viewer.id, owner.id, suggester.id),
        )
    )
    (told,) = await platform.wait_for(viewer, 1)
    assert told["kind"] == "item_suggested"
    assert told["data"]["item"]["title"] == "Kite"
    assert told["data"]["suggested_by_display_name"] == "Sara"
    assert told["data"]["wishlist"]["owner_display_name"] == "Olga"
    await redeliver_twice(platform, event)
    assert await platform.rows([event.id]) == [(event.id, viewer.id)]
    assert (await platform.notifications(owner))["items"] == []

    # The suggester deleting their account erases their name from it.
    await platform.bus.send(UserDeleted(user_id=suggester.id))

    async def unnamed() -> bool:
        (kept,) = (await platform.notifications(viewer))["items"]
        assert kept["data"]["suggested_by_display_name"] is None
        assert kept["data"]["item"]["title"] == "Kite"
        return True

    await eventually(unnamed, timeout=30)


async def test_a_received_item_is_told_once_to_its_reservers_only(platform: Platform) -> None:
    owner, reserver, onlooker = await platform.users("Olga", "Rita", "Otto")
    event = await platform.bus.send(
        ItemReceived(
            wishlist=platform.wishlist_ref(owner),
            item=platform.item_snapshot("Lamp"),
            viewer_ids=(reserver.id, onlooker.id),
            recipient_ids=(reserver.id, owner.id),
        )
    )
    (told,) = await platform.wait_for(reserver, 1)
    assert told["kind"] == "item_received"
    assert told["data"]["item"]["title"] == "Lamp"
    await redeliver_twice(platform, event)
    assert await platform.rows([event.id]) == [(event.id, reserver.id)]


async def test_a_reveal_is_told_once_to_every_viewer_with_what_was_received(
    platform: Platform,
) -> None:
    owner, alice, bob = await platform.users("Olga", "Alice", "Bob")
    gifts = (platform.item_snapshot("Lamp"), platform.item_snapshot("Kite"))
    event = await platform.bus.send(
        WishlistRevealed(
            wishlist=platform.wishlist_ref(owner, "Christmas"),
            revealed_at=datetime(2026, 12, 26, 9, 0, tzinfo=UTC),
            received_items=gifts,
            recipient_ids=(alice.id, bob.id, owner.id),
        )
    )
    for viewer in (alice, bob):
        (told,) = await platform.wait_for(viewer, 1)
        assert told["kind"] == "wishlist_revealed"
        assert told["data"]["wishlist"]["title"] == "Christmas"
        assert told["data"]["revealed_at"] == "2026-12-26T09:00:00+00:00"
        assert told["data"]["received_count"] == 2
        assert told["data"]["received_titles"] == ["Lamp", "Kite"]
    await redeliver_twice(platform, event)
    assert sorted(await platform.rows([event.id])) == sorted(
        [(event.id, alice.id), (event.id, bob.id)]
    )
    assert (await platform.notifications(owner))["items"] == []
