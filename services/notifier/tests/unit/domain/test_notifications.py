"""Who is told what about each wishlists event, and what they are shown."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from notifier.domain import notifications as rules
from wishlist_shared.events import (
    ItemAdded,
    ItemDeleted,
    ItemReserved,
    ItemSnapshot,
    WishlistRef,
    WishlistShared,
)

OWNER = uuid.uuid4()
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


def item() -> ItemSnapshot:
    return ItemSnapshot(
        id=uuid.uuid4(),
        title="A book",
        url="https://example.com/book",
        price="19.99",
        currency="EUR",
        image_url=None,
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


@pytest.mark.parametrize("kind", sorted(rules.RESERVATION_KINDS))
def test_reservation_kinds_drop_the_owner(kind: rules.Kind) -> None:
    assert rules.recipients_of(kind, OWNER, [OWNER, ALICE]) == (ALICE,)


def test_a_deleted_owner_is_not_named() -> None:
    planned = rules.without_name(
        rules.item_added(ItemAdded(wishlist=wishlist(), item=item(), recipient_ids=(ALICE,)))
    )
    assert planned.data["wishlist"]["owner_display_name"] is None
    assert planned.data["wishlist"]["title"] == "Birthday"


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
