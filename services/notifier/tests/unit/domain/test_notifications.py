"""Who is told what about each wishlists event, and what they are shown."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Literal, get_args

import pytest

from notifier.domain import notifications as rules
from wishlist_shared.events import (
    GroupMemberAdded,
    GroupRef,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSnapshot,
    ItemSuggested,
    WishlistRef,
    WishlistRevealed,
    WishlistShared,
    WishlistSharedV2,
)
from wishlist_shared.testing.snapshots import item_snapshot

OWNER = uuid.uuid4()
GROUP_OWNER = uuid.uuid4()
ALICE, BOB, CAROL = sorted(uuid.uuid4() for _ in range(3))
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def wishlist(owner_name: str | None = "Olga") -> WishlistRef:
    return WishlistRef(
        id=uuid.uuid4(),
        title="Birthday",
        owner_id=OWNER,
        owner_display_name=owner_name,
        occasion_date=date(2026, 12, 24),
    )


def group(owner_name: str | None = "Gus") -> GroupRef:
    return GroupRef(
        id=uuid.uuid4(), name="Family", owner_id=GROUP_OWNER, owner_display_name=owner_name
    )


def item(title: str = "A book") -> ItemSnapshot:
    return item_snapshot(
        title,
        url="https://example.com/book",
        price="19.99",
        currency="EUR",
        quantity=2,
        priority=1,
        notes="the blue one",
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_shared_list_is_told_to_the_new_viewer_with_what_to_render() -> None:
    ref = wishlist()
    share_id = uuid.uuid4()
    planned = rules.wishlist_shared(
        WishlistShared(
            wishlist=ref, share_id=share_id, viewer_id=ALICE, via="email", recipient_ids=(ALICE,)
        )
    )
    assert planned.kind == "wishlist_shared"
    assert planned.recipients == (ALICE,)
    assert planned.data == {
        "wishlist": {
            "id": str(ref.id),
            "title": "Birthday",
            "owner_id": str(OWNER),
            "owner_display_name": "Olga",
            "occasion_date": "2026-12-24",
        },
        "share_id": str(share_id),
        "via": "email",
    }


def test_a_list_shared_through_a_group_names_the_group() -> None:
    ref, via = wishlist(), group()
    share_id = uuid.uuid4()
    planned = rules.wishlist_shared_v2(
        WishlistSharedV2(
            wishlist=ref,
            share_id=share_id,
            viewer_id=ALICE,
            via="group",
            group=via,
            recipient_ids=(ALICE, OWNER),
        )
    )
    assert planned.kind == "wishlist_shared"
    assert planned.recipients == (ALICE,)
    assert planned.owner_id == OWNER
    assert planned.data == {
        "wishlist": rules.wishlist_data(ref),
        "share_id": str(share_id),
        "via": "group",
        "group": {"id": str(via.id), "name": "Family"},
    }


@pytest.mark.parametrize("via", ["email", "link"])
def test_a_v2_share_not_through_a_group_names_no_group(via: Literal["email", "link"]) -> None:
    planned = rules.wishlist_shared_v2(
        WishlistSharedV2(
            wishlist=wishlist(),
            share_id=uuid.uuid4(),
            viewer_id=BOB,
            via=via,
            # Even if a payload carried one by mistake.
            group=group(),
            recipient_ids=(BOB,),
        )
    )
    assert planned.recipients == (BOB,)
    assert planned.data["via"] == via
    assert planned.data["group"] is None


def test_a_new_group_member_is_told_by_the_group_owner_never_to_them() -> None:
    to = group()
    member_id = uuid.uuid4()
    planned = rules.added_to_group(
        GroupMemberAdded(group=to, member_id=member_id, recipient_ids=(CAROL, GROUP_OWNER))
    )
    assert planned.kind == "added_to_group"
    assert planned.recipients == (CAROL,)
    assert planned.owner_id == GROUP_OWNER
    assert planned.data == {
        "group": {
            "id": str(to.id),
            "name": "Family",
            "owner_id": str(GROUP_OWNER),
            "owner_display_name": "Gus",
        },
        "member_id": str(member_id),
    }


def test_a_suggestion_is_told_to_the_other_viewers_with_who_suggested_it() -> None:
    ref, suggested = wishlist(), item("A kite")
    planned = rules.item_suggested(
        ItemSuggested(
            wishlist=ref,
            item=suggested,
            suggested_by_id=ALICE,
            suggested_by_display_name="Alice",
            recipient_ids=(BOB, CAROL),
        )
    )
    assert planned.kind == "item_suggested"
    assert planned.recipients == (BOB, CAROL)
    assert planned.data["wishlist"] == rules.wishlist_data(ref)
    assert planned.data["item"]["id"] == str(suggested.id)
    assert planned.data["item"]["title"] == "A kite"
    assert planned.data["suggested_by_display_name"] == "Alice"
    assert planned.data["suggested_by_id"] == str(ALICE)


def test_the_owner_and_the_suggester_never_hear_of_a_suggestion_even_if_named() -> None:
    planned = rules.item_suggested(
        ItemSuggested(
            wishlist=wishlist(),
            item=item(),
            suggested_by_id=ALICE,
            suggested_by_display_name="Alice",
            recipient_ids=(OWNER, ALICE, BOB),
        )
    )
    assert planned.recipients == (BOB,)


def test_a_received_item_is_told_to_its_reservers_only() -> None:
    received = item("Lamp")
    planned = rules.item_received(
        ItemReceived(
            wishlist=wishlist(),
            item=received,
            viewer_ids=(ALICE, BOB, CAROL),
            recipient_ids=(CAROL, OWNER),
        )
    )
    assert planned.kind == "item_received"
    assert planned.recipients == (CAROL,)
    assert planned.data["item"]["title"] == "Lamp"
    assert planned.data["wishlist"]["title"] == "Birthday"


def test_a_reveal_is_told_to_every_viewer_with_what_was_received() -> None:
    planned = rules.wishlist_revealed(
        WishlistRevealed(
            wishlist=wishlist(),
            revealed_at=NOW,
            received_items=(item("Lamp"), item("Kite")),
            recipient_ids=(BOB, ALICE, OWNER),
        )
    )
    assert planned.kind == "wishlist_revealed"
    assert planned.recipients == (ALICE, BOB)
    assert planned.data["revealed_at"] == "2026-11-25T10:00:00+00:00"
    assert planned.data["received_count"] == 2
    assert planned.data["received_titles"] == ["Lamp", "Kite"]


def test_a_reveal_of_many_items_names_a_few_and_counts_them_all() -> None:
    many = tuple(item(f"Gift {n}") for n in range(rules.REVEALED_TITLES_SHOWN + 5))
    planned = rules.wishlist_revealed(
        WishlistRevealed(
            wishlist=wishlist(), revealed_at=NOW, received_items=many, recipient_ids=(ALICE,)
        )
    )
    assert planned.data["received_count"] == rules.REVEALED_TITLES_SHOWN + 5
    assert planned.data["received_titles"] == [
        f"Gift {n}" for n in range(rules.REVEALED_TITLES_SHOWN)
    ]


def every_list_event(recipients: tuple[uuid.UUID, ...]) -> list[rules.Planned]:
    """One planned notification of every rule about a list, each naming ``recipients``."""
    ref = wishlist()
    return [
        rules.wishlist_shared(
            WishlistShared(
                wishlist=ref,
                share_id=uuid.uuid4(),
                viewer_id=ALICE,
                via="email",
                recipient_ids=recipients,
            )
        ),
        rules.wishlist_shared_v2(
            WishlistSharedV2(
                wishlist=ref,
                share_id=uuid.uuid4(),
                viewer_id=ALICE,
                via="group",
                group=group(),
                recipient_ids=recipients,
            )
        ),
        rules.item_added(ItemAdded(wishlist=ref, item=item(), recipient_ids=recipients)),
        rules.item_reserved(
            ItemReserved(wishlist=ref, item=item(), reserved_quantity=1, recipient_ids=recipients)
        ),
        rules.reserved_item_removed(
            ItemDeleted(wishlist=ref, item=item(), viewer_ids=(), recipient_ids=recipients)
        ),
        rules.item_suggested(
            ItemSuggested(
                wishlist=ref,
                item=item(),
                suggested_by_id=CAROL,
                suggested_by_display_name="Carol",
                recipient_ids=recipients,
            )
        ),
        rules.item_received(
            ItemReceived(wishlist=ref, item=item(), viewer_ids=(), recipient_ids=recipients)
        ),
        rules.wishlist_revealed(
            WishlistRevealed(
                wishlist=ref, revealed_at=NOW, received_items=(), recipient_ids=recipients
            )
        ),
    ]


def test_no_rule_about_a_list_ever_tells_its_owner() -> None:
    planned = every_list_event((OWNER, ALICE, OWNER))
    assert {p.kind for p in planned} == set(get_args(rules.Kind)) - {"added_to_group"}
    for each in planned:
        assert each.owner_id == OWNER
        assert each.recipients == (ALICE,), each.kind


def test_an_added_item_is_told_to_every_viewer_but_not_the_owner() -> None:
    added = item()
    planned = rules.item_added(
        ItemAdded(wishlist=wishlist(), item=added, recipient_ids=(BOB, OWNER, ALICE, BOB))
    )
    assert planned.kind == "item_added"
    assert planned.recipients == (ALICE, BOB)
    assert planned.data["item"] == {
        "id": str(added.id),
        "title": "A book",
        "image_url": None,
        "price": "19.99",
        "currency": "EUR",
        "quantity": 2,
    }


def test_owner_never_hears_of_a_reservation_even_if_the_payload_names_them() -> None:
    planned = rules.item_reserved(
        ItemReserved(
            wishlist=wishlist(), item=item(), reserved_quantity=1, recipient_ids=(OWNER, CAROL)
        )
    )
    assert planned.kind == "item_reserved"
    assert planned.recipients == (CAROL,)
    assert planned.data["reserved_quantity"] == 1


def test_a_deleted_item_is_told_to_its_reservers_only() -> None:
    planned = rules.reserved_item_removed(
        ItemDeleted(
            wishlist=wishlist(),
            item=item(),
            viewer_ids=(ALICE, BOB, CAROL),
            recipient_ids=(BOB, OWNER),
        )
    )
    assert planned.kind == "reserved_item_removed"
    assert planned.recipients == (BOB,)


def test_a_deleted_item_nobody_reserved_tells_nobody() -> None:
    planned = rules.reserved_item_removed(
        ItemDeleted(wishlist=wishlist(), item=item(), viewer_ids=(ALICE,), recipient_ids=())
    )
    assert planned.recipients == ()


@pytest.mark.parametrize("kind", sorted(rules.SURPRISE_KINDS))
def test_reservation_and_suggestion_kinds_drop_the_owner(kind: rules.Kind) -> None:
    assert rules.recipients_of(kind, OWNER, [OWNER, ALICE]) == (ALICE,)


def test_a_deleted_owner_is_not_named() -> None:
    planned = rules.without_name(
        rules.item_added(ItemAdded(wishlist=wishlist(), item=item(), recipient_ids=(ALICE,)))
    )
    assert planned.data["wishlist"]["owner_display_name"] is None
    assert planned.data["wishlist"]["title"] == "Birthday"


def test_a_deleted_group_owner_is_not_named() -> None:
    planned = rules.without_names_of(
        rules.added_to_group(
            GroupMemberAdded(group=group(), member_id=uuid.uuid4(), recipient_ids=(ALICE,))
        ),
        {GROUP_OWNER},
    )
    assert planned.data["group"]["owner_display_name"] is None
    assert planned.data["group"]["name"] == "Family"
    assert planned.recipients == (ALICE,)


def test_a_deleted_suggester_is_not_named_and_deleted_recipients_are_not_told() -> None:
    planned = rules.item_suggested(
        ItemSuggested(
            wishlist=wishlist(),
            item=item(),
            suggested_by_id=ALICE,
            suggested_by_display_name="Alice",
            recipient_ids=(BOB, CAROL),
        )
    )
    assert set(planned.named) == {OWNER, ALICE}
    kept = rules.without_names_of(planned, {ALICE, CAROL})
    assert kept.data["suggested_by_display_name"] is None
    assert kept.data["wishlist"]["owner_display_name"] == "Olga"
    assert kept.recipients == (BOB,)


def test_the_pushed_message_wraps_exactly_the_rest_shape() -> None:
    notification = rules.Notification(
        id=uuid.uuid4(), kind="item_added", created_at=NOW, read=False, data={"x": 1}
    )
    assert notification.message() == {
        "type": "notification",
        "notification": notification.model_dump(mode="json"),
    }
    assert set(notification.message()["notification"]) == {
        "id",
        "kind",
        "created_at",
        "read",
        "data",
    }
