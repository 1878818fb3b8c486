"""Paging an event's audience: every page fits, whatever the fields hold; everyone once.

The fields are filled to the limits wishlists and auth accept, with the
characters that cost most on the bus: control characters in free text (six
bytes each, ``\\u0001``) and emoji in URLs, which may not hold controls (four
bytes each). The audience is the largest a list can have.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from wishlist_shared.events import (
    DISPLAY_NAME_MAX_LENGTH,
    MAX_EVENT_BYTES,
    REVEALED_SAMPLE_MAX,
    Envelope,
    EventPayload,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemSnapshot,
    ItemSuggested,
    ReceivedItem,
    WishlistRef,
    WishlistRevealedV2,
    dump,
    encode,
    encoded_size,
)
from wishlists.domain.limits import (
    MAX_GROUPS_PER_WISHLIST,
    MAX_MEMBERS_PER_GROUP,
    MAX_SHARES_PER_WISHLIST,
)
from wishlists.domain.validation import (
    MAX_PRICE_INTEGER_DIGITS,
    NOTES_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    URL_MAX_LENGTH,
)
from wishlists.events.paging import pages

NOW = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)
LARGEST_AUDIENCE = MAX_SHARES_PER_WISHLIST + MAX_GROUPS_PER_WISHLIST * (MAX_MEMBERS_PER_GROUP - 1)
"""Direct viewers, and every group's members but its owner (the list's owner)."""


def text(length: int) -> str:
    return "\x01" * length


def url(length: int) -> str:
    prefix = "https://"
    return prefix + "\U0001f381" * (length - len(prefix))


def worst_list() -> WishlistRef:
    return WishlistRef(
        id=uuid.uuid4(),
        title=text(TITLE_MAX_LENGTH),
        owner_id=uuid.uuid4(),
        owner_display_name=text(DISPLAY_NAME_MAX_LENGTH),
        occasion_date=date(2026, 12, 24),
    )


def worst_item() -> ItemSnapshot:
    return ItemSnapshot(
        id=uuid.uuid4(),
        title=text(TITLE_MAX_LENGTH),
        url=url(URL_MAX_LENGTH),
        price="9" * MAX_PRICE_INTEGER_DIGITS + ".999",
        currency="BHD",
        image_url=url(URL_MAX_LENGTH),
        quantity=99,
        priority=5,
        notes=text(NOTES_MAX_LENGTH),
        created_at=NOW,
        updated_at=NOW,
    )


def audience(count: int = LARGEST_AUDIENCE) -> tuple[uuid.UUID, ...]:
    return tuple(sorted(uuid.uuid4() for _ in range(count)))


def worst_events() -> list[EventPayload]:
    """One event of each shape that names an audience, with an empty audience."""
    wishlist, item = worst_list(), worst_item()
    return [
        ItemAdded(wishlist=wishlist, item=item, recipient_ids=()),
        ItemSuggested(
            wishlist=wishlist,
            item=item,
            suggested_by_id=uuid.uuid4(),
            suggested_by_display_name=text(DISPLAY_NAME_MAX_LENGTH),
            recipient_ids=(),
        ),
        WishlistRevealedV2(
            wishlist=wishlist,
            revealed_at=NOW,
            received_count=500,
            received_sample=tuple(
                ReceivedItem(id=uuid.uuid4(), title=text(TITLE_MAX_LENGTH))
                for _ in range(REVEALED_SAMPLE_MAX)
            ),
            recipient_ids=(),
        ),
    ]


def on_the_bus(page: EventPayload) -> int:
    """The page's size as published, checked to parse back as its consumer parses it."""
    envelope = Envelope.wrap(page)
    body = encode(dump(envelope))
    assert Envelope[type(page)].model_validate_json(body) == envelope  # type: ignore[misc]
    return len(body)


def ids_of(made: Sequence[EventPayload], field: str) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for page in made:
        found.extend(getattr(page, field))
    return found


def test_without_its_audience_the_largest_event_takes_under_half_the_limit() -> None:
    """What ``paging`` promises: a page always has room for hundreds of users."""
    for event in [
        *worst_events(),
        ItemDeleted(wishlist=worst_list(), item=worst_item(), viewer_ids=(), recipient_ids=()),
    ]:
        assert encoded_size(Envelope.wrap(event)) < MAX_EVENT_BYTES // 2, type(event).__name__


@pytest.mark.parametrize("event", worst_events(), ids=lambda e: type(e).__name__)
def test_every_page_fits_and_names_each_recipient_once(event: EventPayload) -> None:
    everyone = audience()
    assert len(everyone) == 2480
    made = pages(event, recipients=everyone)
    assert len(made) > 1
    assert max(on_the_bus(page) for page in made) <= MAX_EVENT_BYTES
    assert ids_of(made, "recipient_ids") == list(everyone)
    # Every page is the event itself, but for its audience.
    for page in made:
        assert page.model_copy(update={"recipient_ids": ()}) == event


@pytest.mark.parametrize("kind", [ItemDeleted, ItemReceived])
def test_viewers_are_paged_and_each_recipient_rides_with_their_viewer_entry(
    kind: type[ItemDeleted] | type[ItemReceived],
) -> None:
    viewers = audience()
    # Every viewer a reserver but a few: the most a page can carry, and not a
    # rule the paging could rely on.
    reservers = viewers[5:]
    event = kind(wishlist=worst_list(), item=worst_item(), viewer_ids=(), recipient_ids=())
    made = pages(event, recipients=reservers, viewers=viewers)
    assert len(made) > 1
    assert max(on_the_bus(page) for page in made) <= MAX_EVENT_BYTES
    assert ids_of(made, "viewer_ids") == list(viewers)
    assert ids_of(made, "recipient_ids") == list(reservers)
    for page in made:
        assert set(page.recipient_ids) <= set(page.viewer_ids)


def test_an_audience_that_fits_is_one_event_as_before() -> None:
    wishlist, item = worst_list(), worst_item()
    few = audience(3)
    (only,) = pages(ItemAdded(wishlist=wishlist, item=item, recipient_ids=()), recipients=few)
    assert only == ItemAdded(wishlist=wishlist, item=item, recipient_ids=few)


def test_an_empty_audience_is_still_one_event() -> None:
    """Consumers see every change, told to nobody or not (docs/events.md)."""
    event = ItemReceived(wishlist=worst_list(), item=worst_item(), viewer_ids=(), recipient_ids=())
    assert pages(event, recipients=(), viewers=()) == [event]


def test_a_recipient_who_is_not_a_viewer_is_still_named_once() -> None:
    viewers, stranger = audience(), uuid.uuid4()
    event = ItemDeleted(wishlist=worst_list(), item=worst_item(), viewer_ids=(), recipient_ids=())
    made = pages(event, recipients=(viewers[0], stranger), viewers=viewers)
    assert Counter(ids_of(made, "recipient_ids")) == Counter({viewers[0]: 1, stranger: 1})
    assert ids_of(made, "viewer_ids") == list(viewers)
    assert max(on_the_bus(page) for page in made) <= MAX_EVENT_BYTES


def test_pages_are_cut_by_bytes_to_the_given_limit() -> None:
    event: Any = ItemAdded(wishlist=worst_list(), item=worst_item(), recipient_ids=())
    limit = encoded_size(Envelope.wrap(event)) + 1000
    made = pages(event, recipients=audience(100), limit=limit)
    sizes = [on_the_bus(page) for page in made]
    assert max(sizes) <= limit
    # Full pages: no more than one UUID's room (and the slack) left unused.
    assert min(sizes[:-1]) > limit - 64 - 2 * 39
