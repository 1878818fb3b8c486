"""The surprise filter: reservation facts reach viewers only; events never name the owner."""

from __future__ import annotations

import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime

import pytest

from wishlists.domain.access import Role
from wishlists.domain.model import Item, NamedReservation, Person, Tally
from wishlists.domain.surprise import (
    Audience,
    SuggestionHidden,
    audience_of,
    disclose,
    recipients,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = uuid.uuid4()


def item(quantity: int = 3) -> Item:
    return Item(
        id=uuid.uuid4(),
        wishlist_id=uuid.uuid4(),
        title="Kite",
        url=None,
        price=None,
        currency=None,
        image_url=None,
        quantity=quantity,
        priority=3,
        notes=None,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("audience", [Audience.OWNER, Audience.ANYONE])
@pytest.mark.parametrize("tally", [None, Tally(0, False), Tally(2, True), Tally(9, False)])
def test_anyone_but_a_viewer_gets_the_item_alone_whatever_is_reserved(
    audience: Audience, tally: Tally | None
) -> None:
    kite = item()
    view = disclose(kite, audience, tally)
    assert view.reservations is None
    assert view.item == kite


def test_a_viewer_gets_the_reserved_quantity_and_whether_it_is_theirs() -> None:
    view = disclose(item(), Audience.VIEWER, Tally(reserved=2, mine=True))
    assert view.reservations is not None
    assert (view.reservations.reserved_quantity, view.reservations.reserved_by_me) == (2, True)


def test_a_viewer_with_nothing_reserved_sees_zero() -> None:
    view = disclose(item(), Audience.VIEWER)
    assert view.reservations is not None
    assert (view.reservations.reserved_quantity, view.reservations.reserved_by_me) == (0, False)


def test_a_lowered_quantity_caps_what_viewers_see_reserved() -> None:
    view = disclose(item(quantity=1), Audience.VIEWER, Tally(reserved=3, mine=False))
    assert view.reservations is not None
    assert view.reservations.reserved_quantity == 1


def test_the_owner_and_nobody_are_described_as_the_owner_is() -> None:
    assert audience_of(Role.OWNER) is Audience.OWNER
    assert audience_of(Role.VIEWER) is Audience.VIEWER
    assert audience_of(Role.NOBODY) is Audience.OWNER


def test_items_carry_no_reservation_field_of_their_own() -> None:
    names = {f.name for f in fields(Item)}
    assert not {n for n in names if "reserv" in n}


def test_recipients_never_hold_the_owner() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert recipients(OWNER, [a, OWNER, b, a]) == tuple(sorted({a, b}))
    assert recipients(OWNER, [OWNER]) == ()


def test_recipients_leave_out_whom_the_event_is_about() -> None:
    reserver, other = uuid.uuid4(), uuid.uuid4()
    assert recipients(OWNER, [reserver, other, OWNER], excluding=[reserver]) == (other,)


def suggestion(revealed: bool) -> Item:
    return replace(
        item(),
        suggestion=True,
        suggested_by=uuid.uuid4(),
        suggested_by_name="Ann",
        revealed_at=NOW if revealed else None,
    )


def test_an_unrevealed_suggestion_is_never_described_to_the_owner() -> None:
    with pytest.raises(SuggestionHidden):
        disclose(suggestion(revealed=False), Audience.OWNER)


def test_who_suggested_is_told_to_viewers_and_after_the_reveal_to_the_owner() -> None:
    hidden, revealed = suggestion(revealed=False), suggestion(revealed=True)
    assert hidden.suggested_by is not None
    assert disclose(hidden, Audience.VIEWER).suggested_by == Person(hidden.suggested_by, "Ann")
    assert disclose(revealed, Audience.OWNER).suggested_by is not None
    # Link visitors and events: whoever reads may be the owner.
    assert disclose(hidden, Audience.ANYONE).suggested_by is None


def test_a_viewer_gets_the_named_reservations_only() -> None:
    named = (NamedReservation(Person(uuid.uuid4(), "Ben"), 1),)
    view = disclose(item(), Audience.VIEWER, Tally(reserved=3, mine=False, named=named))
    assert view.reservations is not None
    assert view.reservations.named == named
    assert view.reservations.reserved_quantity == 3
