"""``wishlist_revealed.v2``: the same notification as v1, from a count and a sample."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from notifier.domain import notifications as rules
from wishlist_shared.events import (
    REVEALED_SAMPLE_MAX,
    ItemSnapshot,
    ReceivedItem,
    WishlistRef,
    WishlistRevealed,
    WishlistRevealedV2,
)
from wishlist_shared.testing.snapshots import item_snapshot

OWNER = uuid.uuid4()
ALICE, BOB = sorted(uuid.uuid4() for _ in range(2))
NOW = datetime(2026, 12, 26, 9, 0, tzinfo=UTC)
REF = WishlistRef(
    id=uuid.uuid4(),
    title="Christmas",
    owner_id=OWNER,
    owner_display_name="Olga",
    occasion_date=date(2026, 12, 24),
)


def snapshot(title: str) -> ItemSnapshot:
    return item_snapshot(title, created_at=NOW, updated_at=NOW)


def test_v2_gives_what_v1_gave_for_the_same_reveal() -> None:
    """A notification must not say whether its event was published before the upgrade."""
    gifts = tuple(snapshot(f"Gift {n}") for n in range(REVEALED_SAMPLE_MAX + 3))
    v1 = rules.wishlist_revealed(
        WishlistRevealed(
            wishlist=REF, revealed_at=NOW, received_items=gifts, recipient_ids=(BOB, ALICE, OWNER)
        )
    )
    v2 = rules.wishlist_revealed_v2(
        WishlistRevealedV2(
            wishlist=REF,
            revealed_at=NOW,
            received_count=len(gifts),
            received_sample=tuple(
                ReceivedItem(id=g.id, title=g.title) for g in gifts[:REVEALED_SAMPLE_MAX]
            ),
            recipient_ids=(BOB, ALICE, OWNER),
        )
    )
    assert v2 == v1
    assert v2.recipients == (ALICE, BOB)
    assert v2.data["received_count"] == REVEALED_SAMPLE_MAX + 3
    assert v2.data["received_titles"] == [f"Gift {n}" for n in range(rules.REVEALED_TITLES_SHOWN)]


def test_a_reveal_with_nothing_received_still_tells_every_viewer() -> None:
    planned = rules.wishlist_revealed_v2(
        WishlistRevealedV2(
            wishlist=REF,
            revealed_at=NOW,
            received_count=0,
            received_sample=(),
            recipient_ids=(ALICE,),
        )
    )
    assert (planned.kind, planned.recipients) == ("wishlist_revealed", (ALICE,))
    assert (planned.data["received_count"], planned.data["received_titles"]) == (0, [])
